"""Publishing outputs atomically: a file through a temporary sibling and one rename; a folder through a sibling
staging folder that is renamed into place when complete and removed on any failure."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write `path` completely or not at all; the file gets the usual permissions (umask), not mkstemp's 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            out.flush()
            os.fsync(out.fileno())  # the bytes reach the disk before the name does
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def staging_path(out: Path) -> Path:
    return out.parent / f".{out.name}.partial-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove the staging folders that killed runs left beside `out` (`.NAME.partial-PID` of a process that
    no longer exists); returns them, so the caller can say what it removed."""
    removed = []
    for path in out.parent.glob(f".{out.name}.partial-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 with RENAME_EXCHANGE); False where unsupported. Written by
    hand because neither os nor shutil offers an atomic exchange, and it is what lets a replaced output be
    either the old complete folder or the new complete one at every instant."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


@contextmanager
def published_dir(out: Path, replace: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside `out`; when the block ends without an error, the staging folder
    becomes `out` (an existing `out` is replaced only with `replace`, the caller's decision that it may be):
    where the system allows, the two are exchanged in one step, so `out` is at every instant either the old
    complete folder or the new one. On any failure the staging folder is removed and `out` is left as it was.
    Staging folders of killed earlier runs are removed first."""
    out = Path(out)
    remove_stale_staging(out)
    staging = staging_path(out)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        if out.exists():
            if not replace:
                raise FileExistsError(f"{out} exists")
            if _exchange(staging, out):  # staging now holds the old output
                shutil.rmtree(staging, ignore_errors=True)
                return
            retired = out.parent / f".{out.name}.partial-{os.getpid()}-old"
            out.rename(retired)  # the old output stays whole (and is named) until the new one is in place
            staging.rename(out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


@contextmanager
def exclusive_lock(out: Path) -> Iterator[Path]:
    """Hold `.NAME.lock` beside `out` for the block; a second holder fails at once with BlockingIOError. The
    lock (flock) goes with the process, so a killed run leaves no stale lock behind."""
    import fcntl

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(out)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
