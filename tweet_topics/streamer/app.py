"""Wiring of one streamer run: clients, start-up checks, recovery, threads, the shutdown budget, the exit code.

Exit codes: 0 everything received was delivered or rejected; 2 the delivery stream is missing or not ACTIVE
(one line on stderr, nothing sent); 3 records remain in the spool or the write-ahead log (durable; the next
start delivers them); 4 records were lost: handed over by the source but never taken, or in memory without an
intact write-ahead log (disk full); 1 the source failed.
"""

from __future__ import annotations

import json
import logging
import os
import secrets as random_ids
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tweet_topics.lib.ledger import StreamerKeys
from tweet_topics.preflight import ConfigError, aws_config_problem
from tweet_topics.settings import Settings
from tweet_topics.storage.clients import resolve_endpoint
from tweet_topics.streamer import secrets, sources
from tweet_topics.streamer.convert_pool import ConvertPool
from tweet_topics.streamer.counters import Counters
from tweet_topics.streamer.filesink import MIB, FileOutput
from tweet_topics.streamer.journal import Journal
from tweet_topics.streamer.options import SYNTHETIC_FILE_CAP, UNBOUNDED, StreamOptions
from tweet_topics.streamer.originals import original_writer
from tweet_topics.streamer.producer import CallTimeout, Sender, bounded_call, seqs_of
from tweet_topics.streamer.rejects import RejectLog
from tweet_topics.streamer.reporting import LedgerWriter, Reporter
from tweet_topics.streamer.runner import Checkpoint, Loop, Progress, run
from tweet_topics.streamer.spool import Spool
from tweet_topics.streamer.status import Health

log = logging.getLogger("tweet_topics.streamer")


def client_config(deadline: float) -> Config:
    """The streamer's own client settings: every call answers (or fails) well inside a batch deadline.

    Not the shared adaptive 8-retry client: nested retries of a silent endpoint added up to ~24 minutes.
    """
    return Config(
        connect_timeout=max(0.5, min(3.0, deadline / 3)),
        read_timeout=max(1.0, min(10.0, deadline / 2)),
        retries={"total_max_attempts": 2, "mode": "standard"},
        tcp_keepalive=True,
        max_pool_connections=8,
        # The streamer builds every request itself (bytes, <=500 records, <=4 MiB, checked names); botocore's
        # walk over the 500 entries of each PutRecordBatch was a quarter of the sender's CPU.
        parameter_validation=False,
    )


def streamer_client(settings: Settings, service: str, deadline: float) -> Any:
    credentials = (
        {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"} if settings.env == "local" else {}
    )
    session = boto3.session.Session(region_name=settings.region, **credentials)
    return session.client(service, endpoint_url=resolve_endpoint(settings), config=client_config(deadline))


def check_stream(client: Any, name: str, timeout: float) -> str | None:
    """Why the delivery stream cannot take records (missing, not ACTIVE), or None. An unreachable endpoint is
    not a reason to refuse to start: the batches spool until it answers."""
    try:
        response = bounded_call(lambda: client.describe_delivery_stream(DeliveryStreamName=name), timeout)
    except CallTimeout:
        log.warning(
            "could not check delivery stream %s (no answer in %.0fs); starting, batches may spool", name, timeout
        )
        return None
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return f"delivery stream {name!r} does not exist"
        if aws_config_problem(exc):  # wrong credentials do not heal by spooling: say so, start nothing
            raise ConfigError(aws_config_problem(exc)) from None
        log.warning("could not check delivery stream %s (%s); starting, batches may spool", name, type(exc).__name__)
        return None
    status = response["DeliveryStreamDescription"]["DeliveryStreamStatus"]
    return None if status == "ACTIVE" else f"delivery stream {name!r} is {status}, not ACTIVE"


def new_run_id() -> str:
    """Unique per streamer run; fits ``lib.ledger.DELIVERY_PATTERN`` (``[A-Za-z0-9_.:-]{1,64}``)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{random_ids.token_hex(3)}"


@dataclass
class Wiring:
    """One run's parts: the loop, and either the Firehose sender + reporter or the local file output."""

    loop: Loop
    sender: Sender | None = None
    reporter: Reporter | None = None
    output: FileOutput | None = None


def run_stream(options: StreamOptions, settings: Settings) -> Counters:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    secrets.install_redaction([os.environ.get(secrets.BEARER_ENV, "")])  # whatever the source, never log it
    stop, counters, run_id = threading.Event(), Counters(), new_run_id()
    state_dir = options.state_dir or settings.local_dir / "streamer"
    state_dir.mkdir(parents=True, exist_ok=True)
    rejects = RejectLog(state_dir / "rejects.ndjson")
    clients = _firehose_clients(options, settings) if options.sink == "firehose" else None
    source, checkpoint = _source(options, settings, state_dir, stop, counters)
    if clients is not None:
        wiring = _firehose_wiring(options, settings, clients, run_id, state_dir, counters, rejects, stop)
        wiring.loop.checkpoint = checkpoint
    else:
        progress = Progress(run_id)
        durable = lambda rs: progress.done([s for r, s in seqs_of(rs) if r == run_id])  # noqa: E731
        output = FileOutput(options.out, counters, durable, min_free=options.min_free_mib * MIB, stop=stop)
        loop = Loop(run_id, output, counters, rejects, checkpoint=checkpoint, progress=progress, stop=stop)
        wiring = Wiring(loop, output=output)
    if options.source == "x" and options.convert_workers:
        wiring.loop.converter = ConvertPool()
    if options.tweet_limit != options.max_tweets:
        log.info(
            "synthetic into a file: stopping after %d tweets (--max-tweets or --duration to change)", SYNTHETIC_FILE_CAP
        )
    log.info(
        "streamer run %s: source %s, sink %s, send deadline %.1fs, shutdown budget %.1fs",
        run_id,
        options.source,
        options.sink,
        options.send_deadline,
        options.shutdown_budget,
    )
    marks: dict[str, float] = {}
    source_error = run(
        source,
        wiring.loop,
        stop,
        options.tweet_limit,
        options.duration,
        drain_until=lambda: marks.setdefault("stop", time.monotonic()) + 0.25 * options.shutdown_budget,
    )
    t0 = marks.get("stop", time.monotonic())
    if wiring.loop.converter is not None:  # every chunk it took was received by now (run settles them)
        wiring.loop.converter.close()
    _shut_down(wiring, counters, t0, options.shutdown_budget)
    return _finish(counters, source_error, time.monotonic() - t0)


def _firehose_clients(options: StreamOptions, settings: Settings) -> tuple[Any, Any]:
    """The Firehose and S3 clients, after checking the delivery stream can take records (else exit 2)."""
    firehose = streamer_client(settings, "firehose", options.send_deadline)
    s3 = streamer_client(settings, "s3", options.send_deadline)
    problem = check_stream(firehose, settings.firehose_stream, timeout=min(10.0, options.send_deadline))
    if problem:
        print(f"stream: cannot start: {problem} (TWEET_TOPICS_FIREHOSE_STREAM; provision it first)", file=sys.stderr)
        raise SystemExit(2)
    return firehose, s3


def _firehose_wiring(
    options: StreamOptions,
    settings: Settings,
    clients: tuple[Any, Any],
    run_id: str,
    state_dir: Path,
    counters: Counters,
    rejects: RejectLog,
    stop: threading.Event,
) -> Wiring:
    """Recovery, ledger, sender and reporter threads (started), and the loop that feeds them."""
    firehose, s3 = clients
    interval = min(60.0, max(1.0, 3 * options.heartbeat_interval))
    ledger = LedgerWriter(s3, settings.bucket, settings.streamer_prefix, interval=interval)
    spool, journal = _recover(state_dir, counters, rejects)
    progress = Progress(run_id)

    def durable(records: list[bytes]) -> None:
        progress.done([seq for run, seq in seqs_of(records) if run == run_id])

    def delivered(records: list[bytes]) -> None:
        pairs = seqs_of(records)  # once for both: a regex search per record
        ledger.handed(records, pairs)
        progress.done([seq for run, seq in pairs if run == run_id])

    sender = Sender(
        firehose, settings.firehose_stream, spool, counters, options.send_deadline, delivered, durable, stopping=stop
    )
    loop = Loop(run_id, sender, counters, rejects, journal, ledger.rejected, progress=progress, stop=stop)
    loop.originals = original_writer(settings, s3, state_dir, run_id)
    status = Health(counters, loop, sender).status
    heartbeat = StreamerKeys(settings.streamer_prefix).heartbeat
    reporter = Reporter(s3, settings.bucket, heartbeat, status, options.heartbeat_interval, ledger)
    sender.start()
    reporter.start()
    return Wiring(loop, sender=sender, reporter=reporter)


def _shut_down(wiring: Wiring, counters: Counters, t0: float, budget: float) -> None:
    """Within the budget from ``t0``: hand over the parked batches, let the sender deliver or spool them, then
    settle what is left in memory (journaled or lost) before the last ledger object and heartbeat."""
    loop, sender = wiring.loop, wiring.sender
    if not loop.hand_off(until=t0 + 0.5 * budget):  # the sender spools them once its call in flight ends
        log.warning("%d batches not handed over within the shutdown budget (in the write-ahead log)", len(loop.parked))
    if loop.originals is not None:  # what is not uploaded by then stays on disk for the next start
        loop.originals.close(until=t0 + 0.6 * budget)
    if sender is not None:
        sender.close(network_until=t0 + 0.6 * budget)
        sender.join(timeout=max(0.0, t0 + 0.8 * budget - time.monotonic()))
        if sender.is_alive():
            log.warning("the sender did not finish within the shutdown budget")
    elif wiring.output is not None:
        wiring.output.close()
    loop.advance_checkpoint()
    if loop.journal is not None:
        loop.journal.release()
    left = loop.open_batches() + (sender.open_batches() if sender is not None else [])
    for batch in left:
        if batch.journal:
            batch.journal.sync()
    counters.settle(unlogged=sum(len(b.records) for b in left if b.journal is None or b.journal.broken))
    if wiring.reporter is not None:
        wiring.reporter.finish(timeout=max(0.5, t0 + 0.95 * budget - time.monotonic()))


def _finish(counters: Counters, source_error: str | None, shutdown_s: float) -> Counters:
    """Log the exit line; exit non-zero (with the summary on stdout) when anything is left undelivered."""
    snap = counters.snapshot()
    log.info(
        "exit: received=%d inherited=%d delivered=%d backlog=%d rejected=%d journaled=%d lost=%d offered=%d "
        "balanced=%s shutdown=%.1fs",
        snap["received"],
        snap["inherited"],
        snap["sent"],
        snap["backlog"],
        snap["rejected"],
        snap["journaled"],
        snap["lost"],
        snap["offered"],
        counters.balanced(),
        shutdown_s,
    )
    code = 4 if snap["lost"] else 3 if snap["backlog"] or snap["journaled"] else 1 if source_error else 0
    if code:
        print(json.dumps(snap))
        sys.stdout.flush()
        raise SystemExit(code)
    return counters


def _recover(state_dir: Path, counters: Counters, rejects: RejectLog) -> tuple[Spool, Journal]:
    """Open the spool (cleaning it), move a killed run's write-ahead log into it; count all of it as inherited."""

    def bad_spool_line(reason: str, raw: bytes) -> None:
        rejects.write(reason, "", raw)
        counters.add(backlog=-1, rejected=1)

    def bad_journal_line(reason: str, raw: bytes) -> None:
        rejects.write(reason, "", raw)
        counters.add(inherited=1, rejected=1)

    spool = Spool(state_dir / "spool", on_bad_line=bad_spool_line)
    journal = Journal(state_dir / "journal")
    try:
        journal.recover(spool, bad_journal_line)
    except OSError as exc:
        log.error("write-ahead log not recovered yet (%s); it stays for the next start", exc.strerror)
    counters.add(inherited=len(spool), backlog=len(spool))
    if len(spool):
        log.info("%d records from earlier runs are spooled; they are delivered first", len(spool))
    return spool, journal


def _source(
    options: StreamOptions, settings: Settings, state_dir: Path, stop: threading.Event, counters: Counters
) -> tuple[Any, Checkpoint | None]:
    if options.source == "synthetic":
        path = state_dir / "checkpoint.json"
        saved = Checkpoint.load(path) if options.resume else None
        if saved and saved.get("seed") != options.seed:
            saved = None  # another sequence: start it from the beginning
        origin = datetime.fromisoformat(saved["origin"]) if saved else datetime.now(UTC)
        skip = int(saved["delivered"]) if saved else 0
        source = sources.synthetic_source(
            options.tweet_limit or UNBOUNDED, rate=options.rate, seed=options.seed, skip=skip, origin=origin, stop=stop
        )
        return source, Checkpoint(path, {"seed": options.seed, "origin": origin.isoformat()}, "delivered", skip)
    if options.source == "replay":
        assert options.file is not None  # StreamOptions.__post_init__
        path = state_dir / "replay-checkpoint.json"
        name = str(options.file.resolve())
        saved = Checkpoint.load(path) if options.resume else None
        start = int(saved["line"]) if saved and saved.get("file") == name else 0
        if start:
            log.info("replay resumes after line %d", start)
        source = sources.replay_source(options.file, speed=options.speed, start_line=start, stop=stop)
        return source, Checkpoint(path, {"file": name}, "line", start)
    from tweet_topics.storage.clients import make_client

    needs_ssm = settings.env == "prod" and not os.environ.get(secrets.BEARER_ENV)
    try:
        token = secrets.bearer_token(make_client(settings, "ssm") if needs_ssm else None)
    except RuntimeError as exc:
        raise ConfigError(str(exc)) from None
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "ParameterNotFound":
            raise
        parameter = os.environ.get(secrets.BEARER_PARAMETER_ENV)
        raise ConfigError(f"SSM parameter {parameter!r} ({secrets.BEARER_PARAMETER_ENV}) does not exist") from None
    secrets.install_redaction([token])
    return sources.x_source(token, _track_rules(options.no_retweets), stop, counters.offer), None


def _track_rules(no_retweets: bool) -> list[str]:
    from tweet_topics.config import TRACK_TERMS_FILE
    from tweet_topics.lib.filtering import read_term_file

    suffix = "lang:en -is:retweet" if no_retweets else "lang:en"
    return sources.build_rules(read_term_file(TRACK_TERMS_FILE), suffix=suffix)
