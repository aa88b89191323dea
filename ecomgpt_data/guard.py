"""The held-out guard: no evaluation data reaches a training mixture by accident.

Two checks. A source is refused when it *is* a held-out dataset: its name or an upstream dataset it
declares equals a held-out dataset name (compared lower-case, letters and digits only), or one of its files
is byte-identical to a released evaluation file, or lies inside the evaluation folder. A record is dropped
when one of its texts matches a held-out record's text, every comparison after normalisation (NFKC,
case-folded, letters and digits only). Every held-out text is guarded by one of three rules:

- `ngram`: a text of at least `ngram` (32) normalised characters guards every 32-character piece of itself;
- `containment`: a shorter text of at least `min_units` (6) units, a unit being one CJK character or one
  word, guards every training text that contains it;
- `equality`: a text of fewer units guards a training text equal to it.

Why 6 units: in the 12 shipped raw sources (about a million training texts), no held-out text of 6 or more
units occurs inside any training text, while the shorter ones that do are generic phrases ("what a pleasant
surprise", "清新的印花" - a fresh print), i.e. containment would drop unrelated records. A 10-character
Chinese product title (`层次分明的撞色连衣裙`, 10 units) is as specific as a long English sentence, so it guards by
containment. A held-out text with no letter or digit at all cannot be matched; such texts are counted and
listed (`unguarded`), never silently ignored.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ecom_tasks.data import EvalRelease
from ecom_tasks.release import released_tasks
from ecomgpt_data.errors import HeldOutSourceError

NGRAM = 32
MIN_UNITS = 6
HELD_OUT_DATASETS = tuple(sorted({task.dataset for task in released_tasks().values()}))
RULES = ("equality", "containment", "ngram")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
WORD = re.compile(r"[^\W_]+")


def units(text: str) -> int:
    """How specific a text is: its CJK characters plus its other words (runs of letters and digits)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return len(CJK.findall(folded)) + len(WORD.findall(CJK.sub(" ", folded)))


NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    return NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def _name_key(name: str) -> str:
    return normalise(name)


class HeldOutGuard:
    def __init__(self, held_out_texts: Iterable[str], ngram: int = NGRAM, min_units: int = MIN_UNITS):
        if not 0 < min_units <= ngram:
            raise ValueError("need 0 < min_units <= ngram")
        self.ngram, self.min_units = ngram, min_units
        self._grams: dict[str, str] = {}  # a 32-character piece -> the held-out text it comes from
        self._contained: dict[str, dict[str, str]] = {}  # first min_units characters -> {key: held-out text}
        self._equal: dict[str, str] = {}  # normalised short text -> the held-out text
        self.texts = 0
        self.guarded = dict.fromkeys(RULES, 0)
        self.unguarded: list[str] = []
        # Attribute names, product titles and labels recur across a source's records: remember recent answers.
        self._match_cached = functools.lru_cache(maxsize=1 << 16)(self._match)
        for text in held_out_texts:
            key = normalise(text)
            self.texts += 1
            if not key:
                self.unguarded.append(text)
            elif len(key) >= ngram:
                self.guarded["ngram"] += 1
                self._grams.update((key[i:i + ngram], text) for i in range(len(key) - ngram + 1))
            elif units(text) >= min_units:  # then len(key) >= min_units: every unit has a character
                self.guarded["containment"] += 1
                self._contained.setdefault(key[:min_units], {})[key] = text
            else:
                self.guarded["equality"] += 1
                self._equal[key] = text

    @classmethod
    def from_release(cls, release: EvalRelease, **kwargs) -> HeldOutGuard:
        """Every record text of every released evaluation set (all 13 folders, listed or not)."""
        return cls(release.texts(), **kwargs)

    def match(self, text: str) -> tuple[str, str] | None:
        """(the rule, the held-out text) when `text` must not be trained on, else None."""
        return self._match_cached(text)

    def _match(self, text: str) -> tuple[str, str] | None:
        key = normalise(text)
        held = self._equal.get(key)
        if held is not None:
            return "equality", held
        n, k = self.ngram, self.min_units
        if len(key) < k:  # too short to contain a containment text (each of its units has a character)
            return None
        if len(key) >= n:
            shared = self._grams.keys() & {key[i:i + n] for i in range(len(key) - n + 1)}
            if shared:
                return "ngram", self._grams[min(shared)]
        for prefix in self._contained.keys() & {key[i:i + k] for i in range(len(key) - k + 1)}:
            for held_key, held in self._contained[prefix].items():
                if held_key in key:
                    return "containment", held
        return None

    def summary(self) -> dict:
        return {"held_out_texts": self.texts, "guarded_by": dict(self.guarded), "unguarded": len(self.unguarded),
                "unguarded_texts": self.unguarded[:50], "ngram": self.ngram, "min_units": self.min_units}


def check_source_identity(name: str, derived_from: Iterable[str], files: Iterable[Path],
                          file_hashes: dict[Path, str], release: EvalRelease | None) -> None:
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
        if release is not None and release.contains(path):
            raise HeldOutSourceError(f"source {name!r}: {path} lies inside the evaluation folder {release.root}")
