"""The rejects file: every input that could not become a record, with its reason, in bounded space.

One JSON line per reject (``reason``, ``detail``, ``seq``, ``raw`` cut to 64 KiB). When the file passes
``max_bytes`` it is rotated to ``.1`` (one old generation kept), so a flood of garbage cannot fill the disk.
A failed write is counted in ``dropped`` and never stops the stream: the reject is still counted.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from tweet_topics.streamer.convert import raw_text

log = logging.getLogger("tweet_topics.streamer")


class RejectLog:
    def __init__(self, path: Path, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.reasons: Counter[str] = Counter()
        self.dropped = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, reason: str, detail: str = "", raw: Any = None, **extra: Any) -> None:
        entry = {"reason": reason, "detail": detail, **extra, "raw": raw_text(raw)}
        line = (json.dumps(entry, ensure_ascii=True) + "\n").encode()
        with self._lock:
            self.reasons[reason.split(":")[0]] += 1
            try:
                if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                with open(self.path, "ab") as handle:
                    handle.write(line)
            except OSError as exc:
                self.dropped += 1
                if self.dropped == 1:
                    log.warning("rejects file not writable (%s): rejects are counted, not kept", exc.strerror)
