"""The topic-model promotion gate: whether a newly fitted version may become ``latest`` (what scoring, the report
and the live query use). Every version is committed; only the pointer is gated, so a bad fit stays auditable
without replacing the model users see.

The gate reads only metrics the fit already computed (``lib/topics/lda.describe``): a floor on mean NPMI coherence
(top terms that co-occur no more than chance are no topic: noise scores about 0 or below) and on topic diversity
(topics that share their top terms have collapsed), and a comparison with the current latest on log-perplexity when
both were measured on the same corpus and vocabulary (the bound is then over the same documents; across corpora it
is not comparable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class PromotionPolicy:
    """``mode="force"`` promotes whatever the metrics say (the refusal reasons are still recorded)."""

    mode: Literal["gate", "force"] = "gate"
    min_npmi: float = 0.05
    min_diversity: float = 0.3
    max_perplexity_rise: float = 0.02  # relative rise of log-perplexity over the latest's on the same corpus


@dataclass(frozen=True)
class Promotion:
    promoted: bool
    reasons: list[str]  # why not (empty when every test passed); kept even when forced
    compared_with: str | None  # the latest version whose log-perplexity was compared, if comparable
    forced: bool = False
    policy: dict[str, Any] = field(default_factory=dict)
    first: bool = False  # promoted despite its reasons because no latest exists yet (nothing to protect)

    def summary(self) -> str:
        if not self.reasons:
            return "passed the quality floor" + (
                f" and is not worse than {self.compared_with}" if self.compared_with else ""
            )
        if self.first:
            return "promoted as the first model (no latest to keep) despite: " + "; ".join(self.reasons)
        return ("forced despite: " if self.forced else "refused: ") + "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary()}


def comparable(new: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Same corpus (fingerprint), same vocabulary size and same metric sample: the bound is over the same tokens."""
    keys = ("vocabulary_size", "metric_sample_documents", "documents")
    return new["corpus"].get("fingerprint") == current.get("corpus", {}).get("fingerprint") and all(
        new["metrics"].get(k) == current.get("metrics", {}).get(k) for k in keys
    )


def decide(new: Mapping[str, Any], policy: PromotionPolicy, current: Mapping[str, Any] | None = None) -> Promotion:
    """Gate the manifest ``new`` (``metrics``, ``corpus``) against ``policy`` and the latest's manifest ``current``
    (None: there is no latest yet)."""
    metrics = new["metrics"]
    reasons = []
    npmi, diversity = float(metrics["coherence_npmi"]), float(metrics["topic_diversity"])
    if not npmi >= policy.min_npmi:  # NaN fails too
        reasons.append(f"mean NPMI coherence {npmi:.3f} is below the floor {policy.min_npmi:.3f}")
    if not diversity >= policy.min_diversity:
        reasons.append(f"topic diversity {diversity:.3f} is below the floor {policy.min_diversity:.3f}")
    compared_with = None
    if current is not None and comparable(new, current):
        compared_with = str(current.get("version"))
        old, now = float(current["metrics"]["log_perplexity"]), float(metrics["log_perplexity"])
        limit = old + policy.max_perplexity_rise * abs(old)
        if not (math.isfinite(now) and now <= limit):
            reasons.append(
                f"log-perplexity {now:.4f} is worse than latest {compared_with}'s {old:.4f} on the same corpus "
                f"by more than {policy.max_perplexity_rise:.1%}"
            )
    forced = policy.mode == "force" and bool(reasons)
    # The first model is promoted even below the floors: the gate keeps a good latest from being replaced, and
    # without any latest, scoring, topic_terms and the live query would have nothing at all (the check still warns).
    first = current is None and bool(reasons) and not forced
    return Promotion(not reasons or forced or first, reasons, compared_with, forced, asdict(policy), first)
