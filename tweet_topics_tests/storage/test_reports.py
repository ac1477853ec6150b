"""The report page lives in the bucket: published there (page last, then latest.json), served by a pre-signed
link, and downloaded by `report open`; a pointer that would leave the download directory is refused."""

import json
import urllib.request

import pytest

from tweet_topics.storage.reports import NoReport, download_latest_report


def test_the_latest_page_is_downloaded_from_the_bucket(resources, bucket, tmp_path):
    pages = resources["storage"].reports
    with pytest.raises(NoReport, match="no report yet"):
        download_latest_report(pages, tmp_path)
    pages.publish("v1", "2026030100-2026030123", {"index.html": b"<p>old</p>", "figures/a.json": b"{}"})
    key = pages.publish("v2", "2026030100-2026030223", {"index.html": b"<p>new</p>", "figures/a.json": b"[]"})
    page, uri = download_latest_report(pages, tmp_path)
    assert page == tmp_path / "v2" / "2026030100-2026030223" / "index.html" and page.read_bytes() == b"<p>new</p>"
    assert uri == f"s3://{bucket}/{key}" and (page.parent / "figures" / "a.json").read_bytes() == b"[]"
    with urllib.request.urlopen(pages.presigned_url(key), timeout=30) as response:
        assert response.read() == b"<p>new</p>"


@pytest.mark.parametrize(("version", "window"), [("..", "2026030100-2026030123"), ("v1", "../../etc")])
def test_a_pointer_outside_the_reports_is_refused(resources, bucket, tmp_path, version, window):
    pages = resources["storage"].reports
    pages.store.put(pages.latest_key, json.dumps({"version": version, "window": window}).encode())
    with pytest.raises(ValueError, match="not a"):
        download_latest_report(pages, tmp_path)
    assert list(tmp_path.iterdir()) == []
