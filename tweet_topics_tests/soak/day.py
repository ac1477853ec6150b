"""The simulated day: its seeded fault schedule and the raw objects Firehose delivers as the clock passes.

Everything random is drawn from one ``random.Random(seed)``, so a seed names a day exactly (it is printed).
The generator's objects are rendered up front with what a correct pipeline must find in them (``Expected``)
and delivered when the simulated clock reaches their Firehose timestamp - a late object hours after its hour
closed, a duplicated object (Firehose's own retry) right after the original.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tweet_topics.lib.synthetic import FaultSpec, RenderedHour, TweetGenerator, firehose_key, render_hour
from tweet_topics.storage.keys import partition_key

HOUR = timedelta(hours=1)
NEWLINE = b"\n"


def yesterday() -> datetime:
    """A past day whose hours are all closed now and still inside the sensor's 72 h look-back."""
    return (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class SoakConfig:
    seed: int = 26
    day: datetime = field(default_factory=yesterday)
    hours: int = 24
    tweets_per_hour: int = 40
    objects_per_hour: int = 4
    tick: timedelta = timedelta(minutes=15)
    late_objects: int = 3
    streamer_tweets: int = 1500  # the last streamer run's own tweets (0: no streamer slice)
    streamer_rate: float = 150.0
    streamer_kill_after: tuple[int, int] = (200, 600)  # run 1 is SIGKILLed once this many are durable (drawn)
    backfill_hours: int = 6  # each of the two overlapping backfills (0: none)
    kill_mid_commit: bool = True
    deletions: int = 12  # ids (half generator, half streamer) in a deletion list applied mid-day (0: none)
    report: bool = False  # also fit the topic model and build the report (Spark; the full soak only)


@dataclass(frozen=True)
class Poison:
    """One injected bad line: a deletion list applied later may take it (audit.expected_quarantine says which)."""

    at: datetime  # when its object is delivered
    reason: str
    line: bytes


@dataclass
class Expected:
    """What a correct pipeline must end with: every id in exactly one committed hour, every bad line quarantined."""

    ids: dict[str, str] = field(default_factory=dict)  # tweet id -> source ("generator" / "streamer")
    poison: dict[str, int] = field(default_factory=dict)  # reason -> lines injected
    poison_lines: list[Poison] = field(default_factory=list)
    duplicate_lines: int = 0  # lines that repeat a record (in-object duplicates and the duplicated object)

    def add_poison(self, rendered: RenderedHour, hour: datetime) -> None:
        for key, reason, line in rendered.poison_lines:
            self.poison[reason] = self.poison.get(reason, 0) + 1
            self.poison_lines.append(Poison(_key_time(key, hour), reason, line))


@dataclass(order=True)
class Delivery:
    """One raw object, put when the simulated clock reaches ``at``."""

    at: datetime
    key: str
    body: bytes = field(compare=False)
    label: str = field(default="", compare=False)  # a fault's name, for the table ("" for ordinary objects)


@dataclass
class DayPlan:
    deliveries: list[Delivery]
    expected: Expected
    faults: list[tuple[datetime, str]]  # (simulated time, description), printed as the fault table
    streamer_hour: datetime | None
    backfill_at: datetime | None
    backfills: tuple[tuple[datetime, datetime], tuple[datetime, datetime]] | None
    kill_at: datetime | None
    deletion_at: datetime | None = None


def _hour_faults(rng: random.Random) -> FaultSpec:
    return FaultSpec(
        malformed_json=rng.choice([0, 0, 1, 2]),
        duplicates=rng.choice([0, 1, 3]),
        missing_text=rng.choice([0, 0, 1]),
        truncated_last_line=rng.random() < 0.15,
    )


def plan_day(config: SoakConfig, raw_prefix: str, stream: str) -> DayPlan:
    """Render the day's objects and draw its faults, all from ``config.seed``."""
    rng = random.Random(config.seed)
    hours = [config.day + HOUR * h for h in range(config.hours)]
    streamer_hour = hours[rng.randrange(1, max(2, config.hours - 4))] if config.streamer_tweets else None
    generator, expected = TweetGenerator(seed=config.seed), Expected()
    deliveries: list[Delivery] = []
    faults: list[tuple[datetime, str]] = []
    clean = [h for h in hours if h != streamer_hour]
    duplicated_hour = rng.choice(clean)
    for hour in clean:
        spec = FaultSpec() if hour == duplicated_hour else _hour_faults(rng)
        volume = round(config.tweets_per_hour * rng.uniform(0.8, 1.2))  # hours differ, as real ones do
        tweets = generator.tweets_between(hour, hour + HOUR, volume)
        rendered = render_hour(tweets, hour, raw_prefix, stream, config.objects_per_hour, spec, seed=config.seed)
        expected.ids.update((i, "generator") for i in rendered.expected_ids)
        expected.add_poison(rendered, hour)
        expected.duplicate_lines += rendered.expected_duplicates
        for key, body in rendered.objects:
            deliveries.append(Delivery(_key_time(key, hour), key, body))
        bad = sum(rendered.expected_malformed.values())
        if bad or rendered.expected_duplicates:
            faults.append(
                (hour, f"{partition_key(hour)}: {bad} poison line(s), {rendered.expected_duplicates} dup line(s)")
            )
        if hour == duplicated_hour:
            key, body = rendered.objects[rng.randrange(len(rendered.objects))]
            copy_at = _key_time(key, hour) + timedelta(seconds=1)
            # Firehose's own retry: the same records again under a new key of the same hour.
            deliveries.append(Delivery(copy_at, firehose_key(raw_prefix, stream, copy_at, rng), body, "duplicate"))
            expected.duplicate_lines += body.count(b"\n")
            faults.append(
                (copy_at, f"{partition_key(hour)}: raw object delivered twice ({body.count(NEWLINE)} records)")
            )
    for hour in rng.sample(clean[: max(1, len(clean) - 2)], k=min(config.late_objects, len(clean) - 2)):
        closed = hour + HOUR + timedelta(minutes=6)
        at = closed + timedelta(minutes=rng.randrange(10, 240))
        late = TweetGenerator(seed=config.seed * 1000 + hour.hour)
        tweets = late.tweets_between(hour + timedelta(seconds=17.3), hour + HOUR, rng.randrange(3, 12))
        rendered = render_hour(tweets, hour, raw_prefix, stream, n_objects=1, seed=config.seed + 1)
        expected.ids.update((i, "generator") for i in rendered.expected_ids)
        key, body = rendered.objects[0]
        # Named in its own hour (Firehose names by arrival at Firehose; S3 delivery retried hours later).
        deliveries.append(Delivery(at, firehose_key(raw_prefix, stream, _key_time(key, hour), rng), body, "late"))
        faults.append((at, f"{partition_key(hour)}: late object ({len(tweets)} tweets) after the hour closed"))
    backfill_at = backfills = kill_at = None
    if config.backfill_hours and config.hours >= config.backfill_hours + 4:
        first = hours[rng.randrange(0, config.hours - config.backfill_hours - 3)]
        overlap = max(1, config.backfill_hours // 2)
        backfills = (
            (first, first + HOUR * (config.backfill_hours - 1)),
            (first + HOUR * overlap, first + HOUR * (overlap + config.backfill_hours - 1)),
        )
        backfill_at = backfills[1][1] + HOUR * 2
        faults.append((backfill_at, "two overlapping backfills launched together: " + _ranges(backfills)))
    if config.kill_mid_commit:
        kill_at = config.day + HOUR * rng.randrange(2, max(3, config.hours - 2)) + timedelta(minutes=7)
        faults.append((kill_at, "the next requested run is SIGKILLed mid-commit (files written, commit not)"))
    if streamer_hour is not None:
        faults.append((streamer_hour + timedelta(minutes=20), "real streamer slice (faults below)"))
    deletion_at = None
    if config.deletions:
        after = max(config.day + HOUR * (config.hours // 2), (streamer_hour or config.day) + HOUR * 2)
        deletion_at = after + timedelta(minutes=10)
        faults.append((deletion_at, f"deletion list of {config.deletions} committed ids applied (apply_deletions)"))
    plan = DayPlan(sorted(deliveries), expected, sorted(faults), streamer_hour, backfill_at, backfills, kill_at)
    plan.deletion_at = deletion_at
    return plan


def _ranges(backfills: tuple[tuple[datetime, datetime], ...]) -> str:
    return " and ".join(f"{partition_key(a)}…{partition_key(b)}" for a, b in backfills)


def _key_time(key: str, hour: datetime) -> datetime:
    """The Firehose timestamp in an object's name (``<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``)."""
    stamp = key.rsplit("/", 1)[1].split("-1-", 1)[1][:19]
    return datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC) if stamp else hour
