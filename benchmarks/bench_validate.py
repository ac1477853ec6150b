"""How long a user (or CI) waits for the code location to load: `dagster definitions validate` and `dg check defs`.

Issue 27's target is ≤ 3 s for `dagster definitions validate -w workspace.yaml`. The peer in the same run is a bare
`python -c "import dagster"`: what any Dagster project pays before its own code, so the difference is ours.
Each command runs ``--rounds`` times in a fresh process; the table gives the best and the median wall time.

Usage: python benchmarks/bench_validate.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, table

BIN = Path(sys.executable).parent
COMMANDS = {
    "python -c 'import dagster' (peer)": [sys.executable, "-c", "import dagster"],
    "dagster definitions validate -w workspace.yaml": [
        str(BIN / "dagster"),
        "definitions",
        "validate",
        "-w",
        "workspace.yaml",
    ],
    "dg check defs": [str(BIN / "dg"), "check", "defs"],
}
TARGET_S = 3.0


def wall(command: list[str]) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):  # the commands take turns, so a load spike hits all of them
        for name, command in COMMANDS.items():
            times[name].append(wall(command))
    peer = statistics.median(times[next(iter(COMMANDS))])
    rows = []
    for name, measured in times.items():
        median = statistics.median(measured)
        rows.append(
            {
                "command": name,
                "best s": min(measured),
                "median s": median,
                "× import dagster": round(median / peer, 2),
                "÷ 3 s target": round(median / TARGET_S, 2),
            }
        )
    load = os.getloadavg()
    table(rows, f"Loading the code location ({rounds} rounds, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})")


if __name__ == "__main__":
    main()
