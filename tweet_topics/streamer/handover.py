"""A bounded hand-over between two threads that moves items in chunks, not one at a time.

``queue.Queue`` takes a lock, checks two conditions and may wake the other thread for every item; at ~20,000
messages/s that per-item traffic (tweepy's thread -> the source -> the loop) cost the main loop about a tenth of its
time. Here the producer appends under one lock (waking the consumer only when it is waiting), the consumer takes
everything waiting (up to ``most``) at once, and the bound counts items, so memory stays bounded however the
producer groups them.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Handover(Generic[T]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._readable = threading.Condition(self._lock)
        self._writable = threading.Condition(self._lock)
        self._closed = False

    def __len__(self) -> int:
        """Items waiting now."""
        return len(self._items)

    def put(self, item: T) -> None:
        """Append one item; waits while ``limit`` items are waiting (backpressure)."""
        with self._lock:
            while len(self._items) >= self.limit:
                self._writable.wait()
            self._items.append(item)
            if len(self._items) == 1:
                self._readable.notify()

    def put_many(self, items: list[T]) -> None:
        """Append a chunk (it may overshoot ``limit`` by less than its own size; it waits for room first)."""
        with self._lock:
            while len(self._items) >= self.limit:
                self._writable.wait()
            self._items.extend(items)
            self._readable.notify()

    def close(self) -> None:
        """No more items: ``take`` returns what is left, then reports the end."""
        with self._lock:
            self._closed = True
            self._readable.notify_all()

    def take(self, most: int, timeout: float) -> tuple[list[T], bool]:
        """Up to ``most`` waiting items (waits up to ``timeout`` s for the first); True once closed and empty."""
        with self._lock:
            if not self._items and not self._closed:
                self._readable.wait(timeout)
            items = self._items
            if len(items) <= most:
                chunk = list(items)
                items.clear()
            else:
                chunk = [items.popleft() for _ in range(most)]
            if chunk:
                self._writable.notify()
            return chunk, self._closed and not items
