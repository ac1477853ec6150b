"""S3Store's object edges on the moto server: the one read path (missing keys, ETags) and the conditional put."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, FlexibleChecksumError, ResponseStreamingError

from tweet_topics.storage.s3 import S3Store, error_code
from tweet_topics_tests.streamer.faultproxy import FaultProxy


def proxied(store: S3Store, endpoint: str) -> S3Store:
    """The same bucket reached through ``endpoint`` (the fault proxy)."""
    aws = store.aws
    through = type(aws)(env=aws.env, region=aws.region, endpoint_url=endpoint, stack_file=aws.stack_file)
    return S3Store(aws=through, bucket=store.bucket, protected_prefix=store.protected_prefix)


def test_get_many_keeps_order_and_leaves_out_missing_only_when_asked(resources, bucket):
    store = resources["storage"].s3
    keys = [f"misc/{i:02d}" for i in range(12)]
    for key in keys[::2]:
        store.put(key, key.encode())
    assert store.get_many(keys[::2]) == [(k, k.encode()) for k in keys[::2]]
    assert store.get_many(keys, missing_ok=True) == [(k, k.encode()) for k in keys[::2]]
    with pytest.raises(ClientError) as info:
        store.get_many(keys)
    assert error_code(info.value) == "NoSuchKey"


def test_read_commits_leaves_out_hours_without_a_commit(resources, bucket):
    combined = resources["storage"].combined
    hours = [datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(5)]
    for hour in hours[1::2]:
        combined.write_hour(hour, {"tweets.csv": b"id\n", "quarantine.ndjson": b""}, {"hour": hour.hour})
    commits = combined.read_commits(hours)
    assert sorted(commits) == hours[1::2]
    assert all(commits[hour]["metadata"] == {"hour": hour.hour} for hour in hours[1::2])


def test_conditional_put_and_etag(resources, bucket):
    store = resources["storage"].s3
    assert store.get_with_etag("misc/commit") is None
    store.put_if("misc/commit", b"one", "application/json", None)
    with pytest.raises(ClientError) as info:  # there is an object now: "only if none" is refused
        store.put_if("misc/commit", b"two", "application/json", None)
    assert error_code(info.value) in ("PreconditionFailed", "412")
    body, etag = store.get_with_etag("misc/commit")
    assert body == b"one" and etag
    store.put_if("misc/commit", b"two", "application/json", etag)
    with pytest.raises(ClientError):  # the ETag seen before is no longer the object's
        store.put_if("misc/commit", b"three", "application/json", etag)
    assert store.get("misc/commit") == b"two"
    assert store.get_suffix("misc/commit", 2) == b"wo"


BODY = bytes(range(256)) * 64  # 16 KiB: one object, several reads


@pytest.mark.parametrize("kind", ["cut", "corrupt"])
def test_a_damaged_body_is_read_again_and_the_right_bytes_come_back(resources, bucket, kind):
    """Through the fault proxy: the first GET of the key is cut short (connection closed mid-body) or has a byte
    flipped (botocore's CRC check fails); S3Store reads it again and returns the stored bytes."""
    store = resources["storage"].s3
    store.put("misc/body", BODY)
    with FaultProxy(resources["aws"].endpoint_url, lifetime=60) as proxy:
        through = proxied(store, proxy.url)
        proxy.damage(kind, 1, "misc/body")
        assert through.get("misc/body") == BODY
        assert proxy.damaged == 1
        proxy.damage(kind, 2, "misc/body")
        assert through.get_many(["misc/body"]) == [("misc/body", BODY)]
        assert proxy.damaged == 3


@pytest.mark.parametrize(("kind", "error"), [("cut", ResponseStreamingError), ("corrupt", FlexibleChecksumError)])
def test_a_body_damaged_on_every_attempt_raises(resources, bucket, kind, error):
    """Never wrong bytes: three damaged reads in a row (the bound) raise botocore's error."""
    store = resources["storage"].s3
    store.put("misc/body", BODY)
    with FaultProxy(resources["aws"].endpoint_url, lifetime=60) as proxy:
        proxy.damage(kind, 3, "misc/body")
        with pytest.raises(error):
            proxied(store, proxy.url).get("misc/body")
        assert proxy.damaged == 3


def test_keys_an_xml_body_cannot_carry_are_deleted_and_only_those_asked_for(resources, bucket):
    """DeleteObjects is XML: a control character other than tab, newline and CR fails the whole request (moto: 500
    after every retry; S3: MalformedXML). Such keys, legal in S3, are deleted one request each, and no batch that
    carries one is sent (every DeleteObjects call is watched and must succeed)."""
    from tweet_topics.storage.clients import delete_all

    store = resources["storage"].s3
    odd = ["misc/ctl\x01x", "misc/esc\x1bx", "misc/cr\rx", "misc/tab\tx", "misc/plain"]
    kept = "misc/ctl x"  # a neighbour not asked for (moto cannot store a key with \n)
    for key in [*odd, kept]:
        store.put(key, b"x")
    s3 = store.aws.client("s3")
    batches: list[int] = []
    watch = "after-call.s3.DeleteObjects"
    record = lambda http_response, **_: batches.append(http_response.status_code)  # noqa: E731
    s3.meta.events.register(watch, record)
    try:
        assert delete_all(s3, store.bucket, ({"Key": k} for k in odd)) == 5
    finally:
        s3.meta.events.unregister(watch, record)
    assert batches == [200]  # one batch (the three keys XML carries), answered at once
    assert [o.key for o in store.list("misc/")] == [kept]


def test_deletes_s3_refuses_are_retried_key_by_key_or_raised():
    """botocore's public Stubber plays S3: a batch refused as MalformedXML and a key answered with a transient
    per-key error go by DeleteObject, in order; a per-key AccessDenied raises DeleteFailed naming it; a batch
    that fails with 500 after botocore's retries is raised as it is, not fanned out into single requests."""
    import boto3
    from botocore.stub import Stubber

    from tweet_topics.storage.clients import DeleteFailed, delete_all

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    objects = [{"Key": "misc/a", "VersionId": "1"}, {"Key": "misc/b", "VersionId": "2"}]
    with Stubber(s3) as stub:
        stub.add_client_error("delete_objects", http_status_code=400, service_error_code="MalformedXML")
        for o in objects:
            stub.add_response("delete_object", {}, {"Bucket": "b-test", **o})
        assert delete_all(s3, "b-test", objects) == 2
        stub.assert_no_pending_responses()
    with Stubber(s3) as stub:
        errors = [{"Key": "misc/a", "VersionId": "1", "Code": "SlowDown", "Message": "slow down"}]
        stub.add_response("delete_objects", {"Errors": errors})
        stub.add_response("delete_object", {}, {"Bucket": "b-test", **objects[0]})
        assert delete_all(s3, "b-test", objects) == 2
        stub.assert_no_pending_responses()
    with Stubber(s3) as stub:
        errors = [{"Key": "misc/b", "VersionId": "2", "Code": "AccessDenied", "Message": "Access Denied"}]
        stub.add_response("delete_objects", {"Errors": errors})
        with pytest.raises(DeleteFailed, match=r"1 objects could not be deleted from b-test \(AccessDenied\)") as info:
            delete_all(s3, "b-test", objects)
        assert info.value.errors == errors
    with Stubber(s3) as stub:
        stub.add_client_error("delete_objects", http_status_code=500, service_error_code="InternalError")
        with pytest.raises(ClientError, match="InternalError"):
            delete_all(s3, "b-test", objects)
        stub.assert_no_pending_responses()
