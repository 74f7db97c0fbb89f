"""Where a server process spends its time under load: py-spy's samples, summed by frame.

``record(pid, seconds)`` samples a running process (py-spy from PyPI, installed by
``scripts/install-bench-tools``); ``summary`` prints the frames that hold the most samples: the
project's own inclusive (the frame or anything it called), and any frame's self (the frame itself). asyncio splits a
request's stack at every await, so a frame's inclusive share counts only the samples where
its coroutine was running; the self shares are exact.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def missing() -> str | None:
    return None if Path(PY_SPY).exists() else "py-spy not found (scripts/install-bench-tools)"


async def record(pid: int, seconds: float, rate: int = 250) -> str:
    """py-spy's raw (collapsed) samples of ``pid`` over ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="erpgraph-pyspy-") as tmp:
        out = Path(tmp) / "samples.txt"
        proc = await asyncio.create_subprocess_exec(
            PY_SPY, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", str(rate), "-f", "raw",
            "-o", str(out), "--nonblocking", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy failed: {err.decode()}")
        return out.read_text()


def _name(frame: str) -> str:
    """``function (path/file.py:line)`` -> ``function (file.py)``."""
    function, _, where = frame.partition(" (")
    return f"{function} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else function


def summary(samples: str, top: int = 15) -> list[str]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in samples.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n, raw = int(count), stack.split(";")
        frames = [_name(f) for f in raw]
        total += n
        for frame in {_name(f) for f in raw if " (api/" in f}:  # the project's own frames (py-spy shortens paths)
            inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return ["no samples"]
    out = [f"{total} samples; erpgraph's frames, inclusive (the frame and what it called while running):"]
    out += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in inclusive.most_common(top)]
    out.append("self (the frame itself; an await's I/O is charged to the frame that wrote):")
    out += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    return out
