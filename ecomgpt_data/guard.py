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

What is guarded of a held-out record (`held_out_parts`): its `sentences`; the parts a training text could copy
on their own, which sit inside longer combined texts where no 32-character piece of the whole matches them
(the titles and attribute strings of `Item 1: … Item 2: …`, `Title: …, Attritute: …` and `title<TAB>attributes`,
the `Query:` and `Doc:` / candidate documents of Multi_CPR, the context and question of Reddit_QA); and the gold
answers (the targets of Generate, the spans of Extract, Condition_Extract and NER). Parts and answers shorter
than 32 characters need `PART_MIN_UNITS` (8) units for containment, not 6: phrases of 6-7 units such as
`撞色字母印花` (a contrast letter print, a MEPAVE value) or `可折叠旅行包` (a foldable travel bag, a Multi_CPR
query) are what product texts say freely, and with 6 they dropped four shipped records that copy nothing.
A shorter part is guarded by equality; a shorter gold answer ("Toshiba", "圆领", "two years") is the kind of
generic value a training record may well hold by itself, so it is not guarded, only counted
(`answers_too_short`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import ahocorasick_rs

from ecom_tasks.data import EvalRelease
from ecom_tasks.release import released_tasks
from ecomgpt_data.errors import HeldOutSourceError

NGRAM = 32
MIN_UNITS = 6
PART_MIN_UNITS = 8
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


PART_KINDS = ("sentences", "part", "answer")
ITEM_SPLIT = re.compile(r"\nItem \d+: ")
ITEM_TITLE = re.compile(r"^(?:Item \d+: |Title: )?(?P<title>.*?)(?:, (?:Attritute: )?|\t)(?P<attributes>.*)$", re.S)


def held_out_parts(record: dict) -> Iterator[tuple[str, str]]:
    """(kind, text) of what the guard keeps out of training from one released record: "sentences", its
    structural "part"s, its gold "answer"s (see the module docstring). Parts repeat across records (a title in
    several pairs); the guard counts each distinct text once."""
    sentences = record["sentences"]
    yield "sentences", sentences
    if sentences.startswith("Context: ") and "\nQuestion: " in sentences:  # Reddit_QA
        context, question = sentences.removeprefix("Context: ").rsplit("\nQuestion: ", 1)
        yield from (("part", context), ("part", question))
    elif sentences.startswith("Query: "):  # Multi_CPR: the query, then one document or a candidate list
        query, _, documents = sentences.removeprefix("Query: ").partition("\n")
        yield "part", query
        if documents.startswith("Doc: "):
            yield "part", documents.removeprefix("Doc: ")
        elif documents.startswith("Candidate Document: "):
            for document in documents.removeprefix("Candidate Document: ").removesuffix(".").split(", "):
                yield "part", document
    elif sentences.startswith(("Item 1: ", "Title: ")) or "\t" in sentences:  # OpenBG_Align items
        for item in ITEM_SPLIT.split(sentences):
            match = ITEM_TITLE.match(item.rstrip(","))
            if match:
                yield from (("part", match["title"]), ("part", match["attributes"]))
    for span in record.get("spans") or []:
        if isinstance(span, dict) and isinstance(span.get("term"), str) and span["term"].strip():
            yield "answer", span["term"]


class HeldOutGuard:
    def __init__(self, held_out_texts: Iterable[str | tuple[str, str]], ngram: int = NGRAM,
                 min_units: int = MIN_UNITS):
        """`held_out_texts`: texts, or (kind, text) pairs as `held_out_parts` gives them."""
        if not 0 < min_units <= ngram:
            raise ValueError("need 0 < min_units <= ngram")
        self.ngram, self.min_units = ngram, min_units
        self.anchor = max(1, ngram // 2)  # the screen's anchors: this long, at every this-many characters
        self._grams: dict[str, str] = {}  # a 32-character piece -> the held-out text it comes from
        self._contained: dict[str, dict[str, str]] = {}  # first min_units characters -> {key: held-out text}
        self._equal: dict[str, str] = {}  # normalised short text -> the held-out text
        self.texts = 0  # the records' own texts ("sentences")
        self.guarded = dict.fromkeys(RULES, 0)
        self.parts = {kind: dict.fromkeys(RULES, 0) for kind in PART_KINDS}  # distinct texts per kind and rule
        self.answers_too_short = 0
        self.unguarded: list[str] = []
        seen: set[tuple[str, str]] = set()
        # Attribute names, product titles and labels recur across a source's records: remember recent answers.
        self._match_cached = functools.lru_cache(maxsize=1 << 16)(self._match)
        screen: set[str] = set()  # the screen's patterns (see `_match`)
        for given in held_out_texts:
            kind, text = given if isinstance(given, tuple) else ("sentences", given)
            key = normalise(text)
            if kind == "sentences":
                self.texts += 1
            elif (kind, key) in seen:
                continue
            seen.add((kind, key))
            if not key:
                if kind == "sentences":
                    self.unguarded.append(text)
                continue
            if len(key) >= ngram:
                rule = "ngram"
                self._grams.update((key[i:i + ngram], text) for i in range(len(key) - ngram + 1))
                for i in range(0, len(key) - self.anchor + 1, self.anchor):
                    screen.add(key[i:i + self.anchor])
            elif units(text) >= (min_units if kind == "sentences" else max(min_units, PART_MIN_UNITS)):
                rule = "containment"  # then len(key) >= min_units: every unit has a character
                self._contained.setdefault(key[:min_units], {}).setdefault(key, text)
                screen.add(key)
            elif kind == "answer":
                self.answers_too_short += 1
                continue
            else:
                rule = "equality"
                self._equal.setdefault(key, text)
            self.parts[kind][rule] += 1
            if kind == "sentences":
                self.guarded[rule] += 1
        # sorted: the automaton's input is the same on every run (a set's order follows the salted str hash)
        self._screen = (ahocorasick_rs.AhoCorasick(sorted(screen), implementation=ahocorasick_rs.Implementation.ContiguousNFA)
                        if screen else None)

    @classmethod
    def from_release(cls, release: EvalRelease, **kwargs) -> HeldOutGuard:
        """Every record of every released evaluation set (all 13 folders, listed or not): its text, its structural
        parts and its gold answers (`held_out_parts`)."""
        return cls((part for _, record in release.all_records() for part in held_out_parts(record)), **kwargs)

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
        # The screen: a text that shares a 32-character piece with a held-out text holds one of that text's
        # 16-character anchors (those at every 16th position: any 32 consecutive characters cover one whole),
        # and a text that contains a containment text holds it. One Aho-Corasick pass (ahocorasick_rs, Rust)
        # finds either, where the exact check below slices and hashes every piece of the text (6.5 times as
        # long on a full build's 291,462 texts); 1% of texts hold one. The exact check decides, as before.
        if self._screen is None or not self._screen.find_matches_as_indexes(key):
            return None
        if len(key) >= n:
            shared = self._grams.keys() & {key[i:i + n] for i in range(len(key) - n + 1)}
            if shared:
                return "ngram", self._grams[min(shared)]
        # sorted: the held-out text reported is the same on every run when the text contains several
        for prefix in sorted(self._contained.keys() & {key[i:i + k] for i in range(len(key) - k + 1)}):
            for held_key, held in self._contained[prefix].items():
                if held_key in key:
                    return "containment", held
        return None

    def summary(self) -> dict:
        return {"held_out_texts": self.texts, "guarded_by": dict(self.guarded),
                "parts_guarded_by": {kind: dict(rules) for kind, rules in self.parts.items()},
                "answers_too_short": self.answers_too_short, "unguarded": len(self.unguarded),
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
