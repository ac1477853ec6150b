"""Settings and names that could destroy data are refused before any side effect."""

import pytest

from tweet_topics.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "other"),
    [
        ("TWEET_TOPICS_COMBINED_PREFIX", "raw/tweets/", "TWEET_TOPICS_RAW_PREFIX"),
        ("TWEET_TOPICS_FILTERED_PREFIX", "raw/", "TWEET_TOPICS_RAW_PREFIX"),
        ("TWEET_TOPICS_MODELS_PREFIX", "corpus/models/", "TWEET_TOPICS_CORPUS_PREFIX"),
        ("TWEET_TOPICS_MODELS_PREFIX", "_staging/models/", "_staging/"),
    ],
)
def test_equal_or_nested_dataset_prefixes_fail_naming_both_variables(variable, value, other):
    with pytest.raises(SettingsError) as error:
        load_settings({variable: value})
    assert variable in str(error.value) and other in str(error.value)


def test_the_store_never_deletes_or_replaces_raw_data(resources, bucket):
    storage = resources["storage"]
    key = storage.raw_prefix + "2026/03/01/00/stream-1"
    storage.s3.put(key, b'{"x": 1}\n')
    with pytest.raises(PermissionError, match="read-only"):
        storage.s3.delete_keys([key])
    with pytest.raises(PermissionError, match="read-only"):
        storage.s3.replace_prefix(storage.raw_prefix + "2026/03/01/00/", {"a": (b"", "text/plain")}, "a")
    assert storage.s3.get(key) == b'{"x": 1}\n'


@pytest.mark.parametrize(
    "version", ["../..", "..", "a/../../b", "/etc", ".hidden", "x" * 65, "", "v1\n", "v1\r", "v1 "]
)
def test_model_versions_that_leave_the_store_are_refused(resources, bucket, version):
    models = resources["storage"].models
    with pytest.raises(ValueError, match="not a version name"):
        models.key(version or "/")
    with pytest.raises(ValueError, match="not a version name"):
        models.local_copy(version or "/", "pipeline")


@pytest.mark.parametrize(
    "name", ["../../escaped.txt", "a/../../../escaped.txt", "{tmp}/escaped.txt", "a//b.txt", "./c"]
)
def test_model_download_refuses_keys_that_leave_the_cache(resources, bucket, tmp_path, name):
    """A key under ``models/<v>/pipeline/`` is data: ``..``, absolute or empty segments must not pick the path."""
    import dataclasses

    from tweet_topics.storage.s3 import UnsafeKey

    models = dataclasses.replace(resources["storage"].models, cache_dir=tmp_path / "cache" / "models")
    models.store.put(models.key("v1", "pipeline/metadata/part-0"), b"fine")
    name = name.format(tmp=tmp_path)  # an absolute key part aims at a directory the test can inspect
    models.store.put(models.key("v1", "pipeline/" + name), b"evil")
    assert any(o.key.endswith(name) for o in models.store.list(models.key("v1")))  # the key arrived as written
    with pytest.raises(UnsafeKey, match="refusing to download"):
        models.local_copy("v1", "pipeline")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [], f"files written by a refused download: {written}"
    assert not (tmp_path / "cache" / "models" / "v1" / "pipeline").exists()
