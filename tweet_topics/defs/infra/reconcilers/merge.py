"""Merging by key: the project's tags, lifecycle rule and bucket-policy statements go in next to whatever else a
resource carries, never replacing it (plain functions, shared by the reconcilers)."""

from __future__ import annotations

from typing import Any


def tag_pairs(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def merge_rules(
    current: list[dict[str, Any]], ours: list[dict[str, Any]], ids: set[str]
) -> list[dict[str, Any]] | None:
    """The lifecycle rules with ours (by ID, any of ``ids``) replaced or removed; None when nothing of ours differs."""
    mine = sorted((r for r in current if r.get("ID") in ids), key=lambda r: r["ID"])
    if mine == sorted(ours, key=lambda r: r["ID"]):
        return None
    return [r for r in current if r.get("ID") not in ids] + ours


def merge_statements(current: dict[str, Any] | None, wanted: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The policy with our statements (by Sid) in place and every other statement kept; None when unchanged."""
    policy = current or {"Version": "2012-10-17", "Statement": []}
    sids = {s["Sid"] for s in wanted}
    if [s for s in policy["Statement"] if s.get("Sid") in sids] == wanted:
        return None
    return {**policy, "Statement": [s for s in policy["Statement"] if s.get("Sid") not in sids] + wanted}
