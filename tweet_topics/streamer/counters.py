"""What the streamer did, shared by its threads: printed as JSON on exit and written into every heartbeat.

The books always balance: ``received + inherited = sent + backlog + rejected + in_memory``, where ``inherited``
is what a previous run left in the spool (or its write-ahead log) and ``backlog`` is what the spool holds now.
A spooled record is counted once, as backlog, until it is delivered.
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

    def balanced(self) -> bool:
        with self.lock:
            return self.received + self.inherited == self.sent + self.backlog + self.rejected + self.in_memory

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return asdict(self)
