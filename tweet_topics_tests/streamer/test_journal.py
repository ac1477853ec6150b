"""The write-ahead log opens the next batches' files ahead, off the main loop: the order batches took them is the
order ``recover`` moves them into the spool, and files opened ahead but never used leave nothing behind."""

from __future__ import annotations

import json
import threading

from tweet_topics.streamer.journal import SPARES, Journal
from tweet_topics.streamer.spool import Spool


def discard_elsewhere(log) -> None:
    """As the sender does: from its own thread, once the batch is delivered."""
    thread = threading.Thread(target=log.discard)
    thread.start()
    thread.join()


def test_files_opened_ahead_keep_the_batches_order_and_leave_nothing(tmp_path):
    journal = Journal(tmp_path / "journal")
    lines, taken = [], []
    for batch in range(12):
        log = journal.start("run-j", batch * 10 + 1)
        record = json.dumps({"batch": batch}).encode() + b"\n"
        assert log.append(record)
        lines.append(record)
        taken.append(log)
        if batch % 3 == 2:  # an earlier batch is delivered: its file goes, the next ones are opened ahead
            discard_elsewhere(taken.pop(0))
            lines.pop(0)
    for _ in range(SPARES):
        discard_elsewhere(taken.pop(0))
        lines.pop(0)
    files = {p.name: p.stat().st_size for p in (tmp_path / "journal").iterdir()}
    assert len(files) == len(taken) + SPARES and sorted(files.values())[:SPARES] == [0] * SPARES
    journal.release()  # at exit: the spares go, the batches' files stay
    assert sorted(p.name for p in (tmp_path / "journal").iterdir()) == sorted(log.path.name for log in taken)
    spool = Spool(tmp_path / "spool")
    assert Journal(tmp_path / "journal").recover(spool, lambda reason, raw: None) == len(taken) == 6
    recovered = [line for _, segment in spool.pending() for line in segment]
    assert recovered == lines  # the batches' order, though some files were opened ahead by another thread
