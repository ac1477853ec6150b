import json
import subprocess
import sys

from tweet_topics.local import stack
from tweet_topics.storage.clients import make_client


def test_stack_restart_restores_bucket_contents(tmp_path, settings):
    """A second, private stack: put objects, stop (snapshot), start on a new port, objects are back."""
    own = settings.model_copy(update={"local_dir": tmp_path / "local", "aws_endpoint_url": None})
    first = stack.up(own)
    try:
        assert stack.status(own).running
        s3 = make_client(own, "s3")
        s3.create_bucket(Bucket="restart-test")
        s3.put_object(Bucket="restart-test", Key="a/b/c.txt", Body=b"hello")
        s3.create_bucket(Bucket="empty-bucket")
    finally:
        stack.down(own)
    assert not stack.status(own).running
    second = stack.up(own)
    try:
        assert second.pid != first.pid
        s3 = make_client(own, "s3")
        assert s3.get_object(Bucket="restart-test", Key="a/b/c.txt")["Body"].read() == b"hello"
        assert "empty-bucket" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    finally:
        stack.down(own, save=False)


def test_cli_status_reports_not_running(tmp_path):
    env = {"TWEET_TOPICS_LOCAL_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "tweet_topics", "local", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert json.loads(result.stdout)["running"] is False
