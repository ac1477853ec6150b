"""The original JSON's lifecycle setting (issue 25): TWEET_TOPICS_ORIGINAL_EXPIRATION_DAYS reaches provisioning as a
lifecycle rule on the original prefix, merged beside a team's own rule, and goes again when the setting is unset."""

from tweet_topics.defs.infra.jobs import provision_infra, teardown_infra
from tweet_topics.defs.infra.reconcilers.bucket_config import ORIGINAL_RULE
from tweet_topics.defs.resources import build_resources
from tweet_topics.settings import get_settings
from tweet_topics_tests.defs.infra.helpers import delete_bucket, make_infra, run

TEAM_RULE = {"ID": "team-archive", "Status": "Enabled", "Filter": {"Prefix": "team/"}, "Expiration": {"Days": 400}}
DELETE_DATA = {"ops": {"teardown_all": {"config": {"delete_data": True}}}}


def test_original_expiration_is_a_lifecycle_rule_on_the_original_prefix(resources):
    settings = get_settings().model_copy(update={"original_expiration_days": 90})
    assert build_resources(settings)["infra"].original_expiration_days == 90  # the setting reaches the resource
    infra = make_infra(resources, original_expiration_days=90)
    d, s3 = infra.deployment, resources["aws"].client("s3")
    own = {**resources, "infra": infra}
    run(teardown_infra, own, DELETE_DATA)
    delete_bucket(s3, d.bucket)
    try:
        s3.create_bucket(Bucket=d.bucket)
        s3.put_bucket_lifecycle_configuration(Bucket=d.bucket, LifecycleConfiguration={"Rules": [TEAM_RULE]})
        assert run(
            provision_infra,
            {**resources, "infra": make_infra(resources, original_expiration_days=90, adopt_existing=True)},
        ).success
        rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"]}
        assert rules[ORIGINAL_RULE]["Filter"] == {"Prefix": settings.original_prefix}
        assert rules[ORIGINAL_RULE]["Expiration"] == {"Days": 90} and rules["team-archive"] == TEAM_RULE
        assert run(provision_infra, {**resources, "infra": make_infra(resources, adopt_existing=True)}).success
        rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"]}
        assert ORIGINAL_RULE not in rules and rules["team-archive"] == TEAM_RULE
    finally:
        run(teardown_infra, own, DELETE_DATA)
        delete_bucket(s3, d.bucket)
