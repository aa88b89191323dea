"""File digests and the one seeded hash behind every reproducible draw (sampling priorities, per-record RNG
seeds, candidate draws): the same on every run, Python and machine, unlike the salted built-in hash()."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def seeded_int(*parts: object, sep: str = "\x1f", algorithm: str = "blake2b") -> int:
    """A 64-bit integer from a hash of the parts joined by `sep`. `algorithm` is "blake2b" (the mixture's
    draws) or "sha256" (the evaluation prompts' per-record seed); each caller keeps the one its published
    outputs were made with, so that those outputs stay byte-identical."""
    if algorithm == "blake2b":
        return seeded_ints(*parts[:-1], sep=sep)(parts[-1] if parts else "")
    if algorithm != "sha256":
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return int.from_bytes(hashlib.sha256(sep.join(map(str, parts)).encode()).digest()[:8], "big")


def seeded_ints(*parts: object, sep: str = "\x1f") -> Callable[[object], int]:
    """`seeded_int(*parts, last, sep=sep)` as a function of `last` (blake2b): the parts' hash state is made once
    and copied per call, for the hot loops that hash many values under the same seed and task."""
    start = hashlib.blake2b((sep.join(map(str, parts)) + sep if parts else "").encode(), digest_size=8)

    def of(last: object) -> int:
        digest = start.copy()
        digest.update(str(last).encode())
        return int.from_bytes(digest.digest(), "big")
    return of
