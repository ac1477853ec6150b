"""Alerts leave the UI: provisioning creates the SNS topic (tagged, encrypted, account-only policy, e-mail
subscriptions not repeated); a failed check and a failed run reach an SQS queue subscribed to it, naming the asset,
the hour, the check and a UI link; each is published once."""

import json
from datetime import timedelta

import dagster as dg
import pytest

from tweet_topics.defs.alerts.sensors import AlertSettings, alerts_sensor
from tweet_topics.defs.hourly.assets import RAW_TWEETS, combined_tweets, filtered_tweets
from tweet_topics.defs.infra.deployment import Deployment
from tweet_topics.defs.infra.resource import InfraResource
from tweet_topics.storage.keys import partition_key
from tweet_topics_tests.helpers import START

UI = "https://dagster.example.com"


@pytest.fixture()
def infra(resources, settings):
    deployment = Deployment.from_settings(
        settings.model_copy(update={"alert_emails": "ops@example.com", "env": "prod", "project": "alerts-test"})
    )
    infra = InfraResource(aws=resources["aws"], deployment=deployment)
    yield infra
    infra.alerts.teardown()


def _queue(infra: InfraResource, topic: str) -> tuple[object, str]:
    sqs = infra.aws.client("sqs")
    url = sqs.create_queue(QueueName="alerts-test")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    infra.aws.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return sqs, url


def _messages(sqs, url: str) -> list[dict]:
    out = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        out += [json.loads(m["Body"]) for m in got]
        if not got:
            break
    return out


def test_provisioning_creates_an_owned_encrypted_topic_and_subscribes_once(infra):
    [change] = infra.alerts.ensure()
    assert change.action == "create"
    arn = infra.alerts.arn()
    sns = infra.aws.client("sns")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sns"
    policy = json.loads(attributes["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"ThisAccountOnly", "TlsOnly"}
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert infra.deployment.owns(tags)
    assert [c.action for c in infra.alerts.ensure()] == ["exists"]  # pending subscription not repeated
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions if s["Protocol"] == "email"] == ["ops@example.com"]


def test_a_failed_check_and_a_failed_run_reach_a_subscribed_queue_once(resources, bucket, infra):
    infra.alerts.ensure()
    sqs, url = _queue(infra, infra.alerts.arn())
    instance = dg.DagsterInstance.ephemeral()
    sensor_resources = {"infra": infra, "alerting": AlertSettings(ui_base_url=UI)}

    def tick(cursor):
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources=sensor_resources) as context:
            return alerts_sensor(context)

    first = tick(None)  # starts watching from now
    # An hour with deliveries in the ledger but no raw objects: no_data_while_streaming fails (ERROR).
    storage, hour = resources["storage"], START + timedelta(hours=50)
    entry = {
        "run": "run-s",
        "handed": [[1, 9]],
        "rejected": [],
        "written_at": (hour + timedelta(minutes=9)).isoformat(),
    }
    storage.s3.put(storage.streamer.ledger("run-s", 1, 9), json.dumps(entry).encode())
    key = partition_key(hour)
    assets = [RAW_TWEETS, combined_tweets, filtered_tweets]
    assert dg.materialize(
        assets, resources=resources, partition_key=key, selection=[combined_tweets], instance=instance
    )
    # A failed run: filtered_tweets for an hour that was never combined.
    other = partition_key(hour + timedelta(hours=1))
    failed = dg.materialize(
        assets,
        resources=resources,
        partition_key=other,
        selection=[filtered_tweets],
        instance=instance,
        raise_on_error=False,
    )
    assert not failed.success
    second = tick(first.cursor)
    messages = _messages(sqs, url)
    subjects = sorted(m["Subject"] for m in messages)
    assert len(messages) == 2, subjects
    check = next(m for m in messages if m["MessageAttributes"]["kind"]["Value"] == "check")
    assert "no_data_while_streaming" in check["Subject"] and key in check["Subject"]
    assert f"{UI}/assets/combined_tweets?view=checks&partition=" in check["Message"]
    assert "handed_by_ledger" in check["Message"]
    run = next(m for m in messages if m["MessageAttributes"]["kind"]["Value"] == "run")
    assert other in run["Subject"] and f"{UI}/runs/{failed.run_id}" in run["Message"]
    assert "filtered_tweets" in run["Message"] and "materialize it first" in run["Message"]
    assert tick(second.cursor).cursor == second.cursor and _messages(sqs, url) == []  # each published once
