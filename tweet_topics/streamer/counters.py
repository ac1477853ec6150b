"""What the streamer did, shared by its threads: printed as JSON on exit and written into every heartbeat.

The books: ``received + inherited + unreceived = sent + backlog + rejected + in_memory + journaled + lost``, where
``inherited`` is what a previous run left in the spool (or its write-ahead log), ``backlog`` is what the spool
holds now and ``unreceived = offered - received`` is what the live source was handed (X's ``on_data``) but this run
never took. A spooled record is counted once, as backlog, until it is delivered. At exit (``settle``) what is
still in memory becomes ``journaled`` (its batch's write-ahead log is intact: the next start delivers it) or
``lost``, and so does every unreceived message; the books are ``balanced`` only when they add up and nothing is lost.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass
class Counters:
    received: int = 0  # items taken from the source by this run (every one gets a sequence number)
    inherited: int = 0  # records a previous run left in the spool / write-ahead log
    sent: int = 0  # accepted by Firehose (delivered)
    backlog: int = 0  # records in the spool now
    rejected: int = 0  # could not become a record (or a spooled line was unreadable): in the rejects file
    in_memory: int = 0  # received, not yet delivered, spooled or rejected
    offered: int = 0  # messages the live source was handed (X's on_data); 0 for sources we pull from
    journaled: int = 0  # at exit: in memory, but in an intact write-ahead log (the next start delivers them)
    lost: int = 0  # at exit: handed over and in no durable place (never taken from the queue, or no intact log)
    retried: int = 0  # entries resent after a partial failure
    spooled: int = 0  # records written to the spool (a record spooled twice counts twice here)
    unspooled: int = 0  # records delivered from the spool
    errors: int = 0
    api_calls: int = 0
    abandoned_calls: int = 0  # PutRecordBatch calls given up at the batch deadline
    last_error: str | None = None
    # Not a field: ``asdict`` (the CLI's exit line) deep-copies fields and a lock cannot be copied.
    lock: ClassVar[threading.Lock] = threading.Lock()

    def add(self, **deltas: int) -> None:
        """Change several counts at once, under the lock, so a reader never sees half a move."""
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def offer(self) -> None:
        """One message handed to the live source (per message: the cheapest count there is)."""
        with self.lock:
            self.offered += 1

    def balanced(self) -> bool:
        with self.lock:
            unreceived = max(0, self.offered - self.received)
            held = self.sent + self.backlog + self.rejected + self.in_memory + self.journaled + self.lost
            return self.received + self.inherited + unreceived == held and self.lost == 0

    def settle(self, unlogged: int) -> None:
        """At exit: the ``unlogged`` in-memory records (no intact write-ahead log) and every message the source
        was handed but this run never took are lost; the rest of ``in_memory`` is journaled."""
        with self.lock:
            lost = min(unlogged, self.in_memory) + max(0, self.offered - self.received)
            self.journaled += self.in_memory - min(unlogged, self.in_memory)
            self.lost += lost
            self.in_memory = 0

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return asdict(self)
