"""What every reconciler shares: the Change record, ownership checks, tag merging and waiting.

A reconciler is a plain class (no Dagster) with ``plan`` (read-only), ``ensure`` (create or converge, idempotent),
``teardown`` (delete what it owns, waiting until gone) and ``describe``; all report ``Change`` rows.

Adoption is recorded on the resource itself (the ``adopted-by`` tag next to the ownership tags), so any later run,
with or without ``adopt_existing``, knows the resource was someone else's first: teardown never deletes an adopted
resource, it releases it (removes the project's tags and the settings only the project uses, see each kind).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tweet_topics.defs.infra.deployment import MANAGED_BY

if TYPE_CHECKING:
    from tweet_topics.defs.infra.resource import InfraResource

UNCHANGED = ("exists", "absent", "skip", "kept", "foreign")
ADOPTED_TAG = "adopted-by"  # value MANAGED_BY: put on a resource when the project adopts it


@dataclass(frozen=True)
class Change:
    resource: str
    name: str
    action: str  # create | update | exists | delete | absent | skip | kept | foreign | adopt | release
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.resource} {self.name}: {self.action}" + (f" ({self.detail})" if self.detail else "")


class OwnershipError(RuntimeError):
    """An existing resource with the project's name lacks the ownership tags and adopt_existing is false."""


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def wait_until(check: Callable[[], bool], what: str, timeout: float = 300, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


def tag_dict(tags: list[dict[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in tags or []}


class Reconciler:
    """Base: the infra resource (names, knobs, clients) and the ownership rule shared by every kind."""

    kind = "resource"

    def __init__(self, infra: InfraResource) -> None:
        self.infra = infra
        self.d = infra.deployment

    def client(self, service: str) -> Any:
        return self.infra.aws.client(service)

    def ownership(self, name: str, tags: dict[str, str], strict: bool = True) -> str:
        """``owned``, ``adopt`` (foreign but adopt_existing), else ``foreign`` for a plan and an error otherwise:
        a resource with the project's name but not its tags is never converged."""
        if self.d.owns(tags):
            return "owned"
        if self.infra.adopt_existing:
            return "adopt"
        if not strict:
            return "foreign"
        raise OwnershipError(
            f"{self.kind} {name} exists without the tags {self.d.tags} (has {tags}): it is not this project's. "
            "Rename the project/env, remove it, or set adopt_existing: true to take it over."
        )

    def refused(self, name: str) -> Change:
        return Change(self.kind, name, "foreign", "not tagged as ours: provision refuses it unless adopt_existing")

    def may_delete(self, tags: dict[str, str]) -> bool:
        """Only what the project created: never a foreign resource, never an adopted one (whatever adopt_existing)."""
        return self.d.owns(tags) and not adopted(tags)

    def may_release(self, tags: dict[str, str]) -> bool:
        """An adopted resource: teardown removes the project's tags and settings from it and keeps it."""
        return self.d.owns(tags) and adopted(tags)

    def missing_tags(self, tags: dict[str, str]) -> dict[str, str]:
        """Ownership tags to add; other tags on the resource are kept (merged by key, never replaced)."""
        return {k: v for k, v in self.d.tags.items() if tags.get(k) != v}

    def adoption_tags(self, tags: dict[str, str]) -> dict[str, str]:
        """The tags that make a foreign resource ours and record that it was adopted (never created by us)."""
        return {**self.missing_tags(tags), ADOPTED_TAG: MANAGED_BY}

    def release_keys(self) -> list[str]:
        """Tag keys removed when an adopted resource is released."""
        return [*self.d.tags, ADOPTED_TAG]

    def released(self, name: str, what: str = "") -> Change:
        detail = "adopted, not created by the project: kept; its tags" + (f" and {what}" if what else "") + " removed"
        return Change(self.kind, name, "release", detail)


def adopted(tags: dict[str, str]) -> bool:
    return tags.get(ADOPTED_TAG) == MANAGED_BY
