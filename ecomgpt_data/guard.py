"""The held-out guard: no evaluation data reaches a training mixture by accident.

Two checks. A source is refused when it *is* a held-out dataset: its name or an upstream dataset it
declares equals a held-out dataset name (compared lower-case, letters and digits only), or one of its files
is byte-identical to a released evaluation file, or lies inside the evaluation folder. A record is dropped
when any of its texts contains a held-out record's text or shares a `ngram`-character piece with one, both
after normalisation (NFKC, case-folded, letters and digits only). Held-out texts shorter than `min_chars`
after normalisation (one or two words: "手机壳") are too generic to guard on; they are counted, not used.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ecom_tasks.release import released_tasks
from ecomgpt_data.errors import HeldOutSourceError

NGRAM = 32
MIN_CHARS = 12
HELD_OUT_DATASETS = tuple(sorted({task.dataset for task in released_tasks().values()}))


NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    return NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def _name_key(name: str) -> str:
    return normalise(name)


class HeldOutGuard:
    def __init__(self, held_out_texts: Iterable[str], ngram: int = NGRAM, min_chars: int = MIN_CHARS):
        if not 0 < min_chars <= ngram:
            raise ValueError("need 0 < min_chars <= ngram")
        self.ngram, self.min_chars = ngram, min_chars
        self._grams: set[str] = set()
        self._short_by_prefix: dict[str, set[str]] = {}  # texts shorter than ngram, by their first min_chars
        self.texts = self.too_short = 0
        for text in held_out_texts:
            key = normalise(text)
            self.texts += 1
            if len(key) < min_chars:
                self.too_short += 1
            elif len(key) < ngram:
                self._short_by_prefix.setdefault(key[:min_chars], set()).add(key)
            else:
                self._grams.update(key[i:i + ngram] for i in range(len(key) - ngram + 1))

    @classmethod
    def from_eval_dir(cls, eval_dir: Path, **kwargs) -> HeldOutGuard:
        """Every record text of every released evaluation set (all 13 folders, listed or not)."""
        def texts():
            for task in released_tasks().values():
                path = eval_dir / task.relative_dir / "test.json"
                with path.open(encoding="utf-8") as handle:
                    for line in handle:
                        if line.strip():
                            yield json.loads(line)["sentences"]
        return cls(texts(), **kwargs)

    def hits(self, text: str) -> bool:
        key = normalise(text)
        n, k = self.ngram, self.min_chars
        if len(key) < k:
            return False
        if len(key) >= n and not self._grams.isdisjoint({key[i:i + n] for i in range(len(key) - n + 1)}):
            return True
        prefixes = {key[i:i + k] for i in range(len(key) - k + 1)} & self._short_by_prefix.keys()
        for prefix in prefixes:
            start = key.find(prefix)
            while start >= 0:
                if any(key.startswith(c, start) for c in self._short_by_prefix[prefix]):
                    return True
                start = key.find(prefix, start + 1)
        return False

    def summary(self) -> dict:
        return {"held_out_texts": self.texts, "too_short_to_guard": self.too_short, "ngram": self.ngram,
                "min_chars": self.min_chars}


def check_source_identity(name: str, derived_from: Iterable[str], files: Iterable[Path],
                          file_hashes: dict[Path, str], eval_dir: Path | None) -> None:
    """Raise HeldOutSourceError when the source is one of the held-out evaluation datasets."""
    held_out = {_name_key(d): d for d in HELD_OUT_DATASETS}
    for label in (name, *derived_from):
        if _name_key(label) in held_out:
            raise HeldOutSourceError(
                f"source {name!r}: {label!r} is the held-out evaluation dataset {held_out[_name_key(label)]!r}; "
                "training on it is refused")
    released = {info["sha256"]: f"{task.relative_dir}/{file}" for task in released_tasks().values()
                for file, info in task.files.items()}
    for path in files:
        if file_hashes.get(path) in released:
            raise HeldOutSourceError(
                f"source {name!r}: {path} is the released evaluation file {released[file_hashes[path]]}")
        if eval_dir is not None and path.resolve().is_relative_to(eval_dir.resolve()):
            raise HeldOutSourceError(f"source {name!r}: {path} lies inside the evaluation folder {eval_dir}")
