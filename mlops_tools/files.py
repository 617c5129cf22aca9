"""Writing a file whole or not at all, for the tools that rewrite one a user keeps
(``make promote``'s environment file, ``make baseline``'s baseline)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file in its folder, flushed to disk, that
    replaces it (``os.replace``, atomic on POSIX). An existing file keeps its mode (a symlink
    is followed); a new one gets the mode a plain ``open`` would give it (0666 less the umask).
    When writing fails (a full disk), ``path`` is as it was and the temporary file is gone;
    raises OSError."""
    target = path.resolve()
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            shutil.copymode(target, temporary)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
