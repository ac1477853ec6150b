"""``VersionedStore``: immutable versions of a directory-shaped artifact (the corpus, the topic model) in S3.

A version lives under ``<prefix><version>/`` with a manifest written last (its commit marker); ``latest.json``
names the one in use (the newest, unless the model promotion gate refused a newer one). Version names are
validated everywhere they are accepted, so a pinned version can never address a key or a local path outside the
store.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweet_topics.storage.s3 import S3Store, local_target

LATEST = "latest.json"
VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}")


class VersionNotFound(LookupError):
    """A version (or any version at all) that is not in the store."""


def check_version(version: str) -> str:
    # fullmatch, not match with "$": "$" also matches before a final newline.
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version) or ".." in version:
        raise ValueError(f"{version!r} is not a version name (letters, digits, '_', '.', '-'; no '..')")
    return version


@dataclass(frozen=True)
class VersionedStore:
    name: str  # what is stored, used in messages ("topic model", "corpus")
    prefix: str
    manifest_name: str
    store: S3Store
    cache_dir: Path  # local copies, one directory per version

    def key(self, version: str, file: str = "") -> str:
        return f"{self.prefix}{check_version(version)}/{file}"

    def uri(self, version: str, file: str = "") -> str:
        return f"s3://{self.store.bucket}/{self.key(version, file)}"

    def versions(self) -> list[str]:
        return sorted(
            info.key[len(self.prefix) :].split("/")[0]
            for info in self.store.list(self.prefix)
            if info.key.endswith("/" + self.manifest_name)
        )

    def exists_latest(self) -> bool:
        return self.store.exists(self.prefix + LATEST)

    def latest(self) -> str:
        if not self.exists_latest():
            raise VersionNotFound(f"no {self.name} yet under s3://{self.store.bucket}/{self.prefix}")
        return check_version(json.loads(self.store.get(self.prefix + LATEST))["version"])

    def resolve(self, pinned: str | None) -> str:
        """The pinned version if it exists, else the latest."""
        if not pinned:
            return self.latest()
        if not self.store.exists(self.key(pinned, self.manifest_name)):
            raise VersionNotFound(
                f"{self.name} version {pinned!r} not found under s3://{self.store.bucket}/{self.prefix}; "
                f"available: {self.versions() or 'none'}"
            )
        return pinned

    def manifest(self, version: str) -> dict[str, Any]:
        return self.read_json(version, self.manifest_name)

    def read_json(self, version: str, file: str) -> dict[str, Any]:
        return json.loads(self.store.get(self.key(version, file)))

    def exists(self, version: str, file: str) -> bool:
        return self.store.exists(self.key(version, file))

    def put(self, version: str, file: str, data: bytes, content_type: str = "application/json") -> str:
        self.store.put(self.key(version, file), data, content_type)
        return self.uri(version, file)

    def write(self, version: str, local: Path, manifest: dict[str, Any], promote: bool = True) -> str:
        """Upload the files under ``local`` plus the manifest (last), then point ``latest.json`` at ``version``
        unless ``promote`` is false (a version the promotion gate refused: committed, not served)."""
        objects = {
            p.relative_to(local).as_posix(): (p.read_bytes(), "application/octet-stream")
            for p in sorted(local.rglob("*"))
            if p.is_file() and not p.name.endswith(".crc")
        }
        objects[self.manifest_name] = (json.dumps(manifest, indent=2).encode(), "application/json")
        self.store.replace_prefix(self.key(version), objects, commit_last=self.manifest_name)
        if promote:
            self.promote(version)
        return self.uri(version)

    def promote(self, version: str) -> None:
        """Point ``latest.json`` at a committed ``version``."""
        pointer = json.dumps({"version": check_version(version)}).encode()
        self.store.put(self.prefix + LATEST, pointer, "application/json")

    def local_copy(self, version: str, sub: str) -> Path:
        """Download ``<version>/<sub>/`` once into the cache directory and return the local path."""
        target = self.cache_dir / check_version(version)
        final = local_target(target, sub)
        if not final.exists():
            # Download beside it and rename into place: concurrent runs on one host never see a half copy.
            target.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{sub}-", dir=target))
            try:
                self.store.download_prefix(self.key(version, sub + "/"), staging)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            try:
                staging.rename(final)
            except OSError:  # another run put it there first
                shutil.rmtree(staging, ignore_errors=True)
        return final

    def commit(self, version: str, manifest: dict[str, Any]) -> str:
        """Commit files that Spark tasks already put under ``<version>/``: manifest last, then ``latest.json``.

        A re-commit of ``version`` replaces its manifest; the files only the replaced manifest named are deleted
        after the new manifest is visible, never before (a reader holding the old manifest may race that delete
        and then resolves again; a run that dies before this point leaves the committed version whole).
        """
        previous = self.manifest(version) if self.exists(version, self.manifest_name) else {}
        self.store.put(
            self.key(version, self.manifest_name), json.dumps(manifest, indent=2).encode(), "application/json"
        )
        self.promote(version)
        kept = {f["key"] for f in manifest.get("files", [])}
        replaced = [f["key"] for f in previous.get("files", []) if f["key"] not in kept]
        self.store.delete_keys([k for k in replaced if k.startswith(self.key(version))])
        return self.uri(version)
