"""One `erpgraph dev` per data directory: a lock file holding the owner's pid.

``flock`` is released by the kernel when its holder dies, however it dies, so a
lock file left behind by a crash (or ``kill -9``) never blocks the next start;
the pid inside is only there to name the owner.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from erpgraph.server import StartupError

LOCK_FILE = "erpgraph.lock"


@contextlib.contextmanager
def hold(data_dir: Path) -> Iterator[None]:
    """Own ``data_dir`` until exit; a StartupError naming the owner's pid if another process does."""
    path = data_dir / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StartupError(f"{data_dir} is in use by pid {owner}") from None
        # The owner before us may have removed the file between our open and flock:
        # then we hold a lock nobody else can see; start over on the file that is there.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        # removed while still locked, so nobody locks a file that is about to vanish
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
