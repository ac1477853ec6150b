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
    """DeleteObjects is XML: a control character fails the whole request (moto: 500 after every retry; S3:
    MalformedXML) and a \\r would arrive as \\n. Such keys, legal in S3, are deleted one request each."""
    from tweet_topics.storage.clients import delete_objects

    store = resources["storage"].s3
    odd = ["misc/ctl\x01x", "misc/cr\rx", "misc/tab\tx", "misc/plain"]
    kept = "misc/ctl x"  # a neighbour not asked for (moto cannot store a \n key, so the \r-as-\n case stays unplanted)
    for key in [*odd, kept]:
        store.put(key, b"x")
    s3 = store.aws.client("s3")
    assert delete_objects(s3, store.bucket, ({"Key": k} for k in odd)) == 4
    assert [o.key for o in store.list("misc/")] == [kept]


def test_a_batch_the_server_cannot_take_is_deleted_key_by_key():
    """A DeleteObjects that fails with a 5xx after every retry is retried as one DeleteObject per key (botocore's
    public Stubber plays the failing server; the per-key calls must follow, in order, and nothing else)."""
    import boto3
    from botocore.stub import Stubber

    from tweet_topics.storage.clients import delete_objects

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    objects = [{"Key": "misc/a", "VersionId": "1"}, {"Key": "misc/b", "VersionId": "2"}]
    with Stubber(s3) as stub:
        stub.add_client_error("delete_objects", http_status_code=500, service_error_code="InternalError")
        for o in objects:
            stub.add_response("delete_object", {}, {"Bucket": "b-test", **o})
        assert delete_objects(s3, "b-test", objects) == 2
        stub.assert_no_pending_responses()
    with Stubber(s3) as stub:  # a refusal is not retried key by key: it is the caller's to see
        stub.add_client_error("delete_objects", http_status_code=403, service_error_code="AccessDenied")
        with pytest.raises(ClientError, match="AccessDenied"):
            delete_objects(s3, "b-test", objects)
