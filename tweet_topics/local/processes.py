"""Background processes of the local stack (the moto server, the local streamer): liveness and stopping."""

from __future__ import annotations

import contextlib
import os
import signal
import time


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie is not alive (and is reaped when it is our child)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            zombie = stat.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
    if zombie:
        with contextlib.suppress(ChildProcessError):  # reap it when it is our child
            os.waitpid(pid, os.WNOHANG)
    return not zombie


def terminate(pid: int, timeout: float, group: bool = False) -> None:
    """SIGTERM (to the process group when ``group``), wait up to ``timeout`` s, then SIGKILL."""
    kill = os.killpg if group else os.kill
    kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process_alive(pid):
        kill(pid, signal.SIGKILL)
