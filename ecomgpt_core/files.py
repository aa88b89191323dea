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


@contextmanager
def published_dir(out: Path, replace: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside `out`; when the block ends without an error, the staging folder
    becomes `out` (an existing `out` is replaced only with `replace`, the caller's decision that it may be).
    On any failure the staging folder is removed and `out` is left as it was."""
    out = Path(out)
    staging = staging_path(out)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        if out.exists():
            if not replace:
                raise FileExistsError(f"{out} exists")
            retired = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(retired)  # the old output stays whole until the new one is in place
            staging.rename(out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
