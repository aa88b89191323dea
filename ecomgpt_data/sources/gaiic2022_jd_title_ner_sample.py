"""GAIIC 2022 JD product-title entities (zh): 501 titles, one character per line with a BIO tag.

The entity types are anonymous numbers, so the source gives type-agnostic span detection. Titles contain spaces,
which are characters of their own (`<space><space>O`): each line is split on its last space. Titles are
separated by blank lines.
"""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Span, decode_tags
from ecomgpt_data.sources import Source, register, task_factory

NAME = "gaiic2022_jd_title_ner_sample"
FILE = "train_500.txt"
ENTITY = "商品实体"  # the one type shown: the numbered types have no names


def files(root: Path) -> list[Path]:
    return [root / FILE]


def read(root: Path):
    chars: list[str] = []
    tags: list[str] = []
    first, broken = 1, False

    def title():
        origin = f"{FILE}:{first}"
        try:
            spans = decode_tags(chars, tags)
        except ValueError as error:
            return Malformed(origin, str(error))
        text = "".join(chars)
        return Record(NAME, origin, "zh", "product title", text,
                      spans=tuple(Span(s.term, ENTITY, s.start, s.end) for s in spans))

    with (root / FILE).open(encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line:
                if chars and not broken:
                    yield title()
                chars, tags, first, broken = [], [], number + 1, False
                continue
            char, space, tag = line.rpartition(" ")
            if not space or len(char) != 1:
                if not broken:  # one malformed title, named by its bad line; the rest of it is not read
                    yield Malformed(f"{FILE}:{number}", "expected one character, a space and its tag")
                broken = True
                continue
            chars.append(char)
            tags.append(tag)
    if chars and not broken:
        yield title()


_task = task_factory("gaiic", NAME, "zh")

register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("title_entity_spans", "EXT", "original", "span_detection",
              ("product title entity span detection", "商品标题实体片段检测"), at.span_detection((ENTITY,))),
    ),
))
