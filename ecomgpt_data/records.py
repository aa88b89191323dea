"""Canonical records: what every source reader yields, whatever its raw format.

A `Record` is one item of one of the paper's basic data types (product, review, query, dialogue, address,
or plain text) with its annotations. Readers also yield `Skipped` (a well-formed item that carries nothing
to learn from, e.g. an empty review) and `Malformed` (bad input); the builder counts both and, for
`Malformed`, stops unless told to skip - readers never raise mid-stream, so one bad line cannot end a
generator silently.
"""

from __future__ import annotations

from ecomgpt_data.errors import RawDataError  # noqa: F401 - raised by readers, imported from here

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DATA_TYPES = ("product", "review", "query", "dialogue", "address", "text")


@dataclass(frozen=True)
class Span:
    term: str
    type: str = ""
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class Record:
    source: str
    id: str  # stable within the source: "<relative file>:<line>" (plus a suffix where one line holds many)
    lang: str  # "en" | "zh"
    data_type: str
    text: str
    subset: str = ""  # a part of a source with its own tasks (e.g. "youku" in taobao_youku_ner_jie2019)
    spans: tuple[Span, ...] = ()
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    attributes: tuple[tuple[str, str], ...] = ()
    context: tuple[str, ...] = ()  # earlier dialogue turns, oldest first
    question: str = ""
    answers: tuple[str, ...] = ()  # empty with a question: unanswerable
    target: str = ""  # text written for this item (ad copy, the right reply, ...)
    candidates: tuple[str, ...] = ()  # options shown with the item (reply candidates, ...)
    other: Record | None = None  # the second item of a pair (matching)

    def texts(self) -> Iterator[str]:
        """Every piece of text this record carries (the held-out guard reads all of them)."""
        yield self.text
        for span in self.spans:
            yield span.term
        for values in self.labels.values():
            yield from values
        for key, value in self.attributes:
            yield key
            yield value
        yield from self.context
        yield self.question
        yield from self.answers
        yield self.target
        yield from self.candidates
        if self.other is not None:
            yield from self.other.texts()


@dataclass(frozen=True)
class Malformed:
    origin: str  # "file:line"
    reason: str


@dataclass(frozen=True)
class Skipped:
    origin: str
    reason: str


def _origins(path: Path, root: Path) -> Callable[[int], str]:
    """`origin` of one file's lines, its name worked out once (per line it cost more than many a reader)."""
    name = path.relative_to(root).as_posix()
    return lambda line: f"{name}:{line}"


def origin(path: Path, root: Path, line: int) -> str:
    """Where a record comes from: `<file under root>:<line>`."""
    return _origins(path, root)(line)


def numbered_lines(path: Path, root: Path) -> Iterator[tuple[str, str]]:
    """(origin, line) for every line of a text file that is not blank, the origin named from `root`."""
    where = _origins(path, root)
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield where(number), line


def decode_tags(tokens: Sequence[str], tags: Sequence[str], type_names: dict[str, str] | None = None) -> list[Span]:
    """Spans (with character offsets in "".join(tokens)) from BIO or BIOES token tags. `type_names` maps raw
    tag types to display names; a type missing from it, an I/E without an open span of its type, or an
    unknown prefix raises ValueError."""
    spans: list[Span] = []
    start, kind = -1, ""
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + len(token))

    def close(end: int) -> None:
        nonlocal start, kind
        if start >= 0:
            name = type_names[kind] if type_names is not None else kind
            spans.append(Span("".join(tokens[start:end]), name, offsets[start], offsets[end]))
        start, kind = -1, ""

    for i, tag in enumerate(tags):
        if tag == "O":
            close(i)
            continue
        prefix, _, tag_type = tag.partition("-")
        if not tag_type or prefix not in "BIES" or len(prefix) != 1:
            raise ValueError(f"unknown tag {tag!r} at token {i + 1}")
        if type_names is not None and tag_type not in type_names:
            raise ValueError(f"unknown entity type {tag_type!r} at token {i + 1}")
        if prefix in "BS":
            close(i)
            start, kind = i, tag_type
            if prefix == "S":
                close(i + 1)
        else:
            if start < 0 or kind != tag_type:
                raise ValueError(f"tag {tag!r} at token {i + 1} continues no open {tag_type} span")
            if prefix == "E":
                close(i + 1)
    close(len(tags))
    return spans


def tagged_blocks(path: Path, root: Path, separator: str | None) -> Iterator[tuple[str, list[str], list[str]] | Malformed]:
    """Blocks of `token<sep>TAG` lines separated by blank lines: (origin of the first line, tokens, tags).
    `separator=None` splits on the last space (a literal-space token stays a token). A block with a bad
    line is one `Malformed` naming that line."""
    chars: list[str] = []
    tags: list[str] = []
    first = 0
    bad: Malformed | None = None
    where = _origins(path, root)
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                if chars or bad:
                    yield bad or (where(first), chars, tags)
                chars, tags, bad = [], [], None
                continue
            if not chars and bad is None:
                first = number
            parts = line.rsplit(" ", 1) if separator is None else line.split(separator)
            if len(parts) != 2 or not parts[0] or not parts[1] or " " in parts[1]:
                bad = bad or Malformed(where(number), f"expected a token and a tag, got {line!r}")
                continue
            chars.append(parts[0])
            tags.append(parts[1])
    if chars or bad:
        yield bad or (where(first), chars, tags)


_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])|(?<=[^\x00-\x7f]) (?=[\x00-\x7f])|(?<=[\x00-\x7f]) (?=[^\x00-\x7f])")


def unspace_cjk(text: str) -> str:
    """Undo word/character segmentation of Chinese text: drop single spaces next to a non-ASCII character,
    keep spaces between ASCII words ("iPhone 6")."""
    return _CJK_GAP.sub("", text)


def delimited_rows(path: Path, root: Path, delimiter: str, header: Sequence[str]) -> Iterator[tuple[str, dict] | Malformed]:
    """(origin, row) per data row of a CSV / TSV file read with the csv module (quoted fields, CRLF or LF, a
    delimiter inside quotes), after checking that its header is `header` (extra columns are allowed). A row
    with fewer fields than the header is `Malformed`; so is a file whose header differs (and nothing more is
    read from it)."""
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        rows = csv.reader(handle, delimiter=delimiter)
        first = next(rows, None)
        if first is None or [f.strip() for f in first[:len(header)]] != list(header):
            yield Malformed(origin(path, root, 1), f"expected the header {list(header)} ({delimiter!r}-separated), "
                                                   f"got {first}")
            return
        names = [f.strip() for f in first]
        line_origin = _origins(path, root)
        for fields in rows:
            where = line_origin(rows.line_num)
            if not any(f.strip() for f in fields):
                continue
            if len(fields) < len(header):
                yield Malformed(where, f"{len(fields)} fields where the header has {len(names)}")
                continue
            yield where, dict(zip(names, fields))


def delimited_files(root: Path, names: Sequence[str], delimiter: str, header: Sequence[str]):
    """`delimited_rows` of several files of one source, in order."""
    for name in names:
        yield from delimited_rows(root / name, root, delimiter, header)


class FirstSeen:
    """The keys (normalised texts) seen so far, so that a source whose splits share sentences yields each once:
    `again(key)` is False the first time a key comes, True after."""

    def __init__(self):
        self._seen: set[str] = set()

    def again(self, key: str) -> bool:
        key = " ".join(key.split()).casefold()
        if key in self._seen:
            return True
        self._seen.add(key)
        return False
