"""GAIIC 2022 JD product-title entities (zh): 501 titles, one character per line with a BIO tag.

The entity types are anonymous numbers, so the source gives type-agnostic span detection. Titles contain spaces,
which are characters of their own (`<space><space>O`): each line is split on its last space (the shared
tagged-file reader's `separator=None`). Titles are separated by blank lines.
"""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.sources import Source, register, tagged_records, task_factory

NAME = "gaiic2022_jd_title_ner_sample"
FILE = "train_500.txt"
ENTITY = "商品实体"  # the one type shown: the numbered types have no names
# GAIIC 2022's entity types are numbered 1-54; every one shows as ENTITY, any other tag is malformed
TYPES = {str(number): ENTITY for number in range(1, 55)}


def files(root: Path) -> list[Path]:
    return [root / FILE]


def read(root: Path):
    yield from tagged_records(NAME, "zh", "product title", root, root / FILE, None, TYPES)


_task = task_factory("gaiic", NAME, "zh")

register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("title_entity_spans", "EXT", "original", "span_detection",
              ("product title entity span detection", "商品标题实体片段检测"), at.span_detection((ENTITY,))),
    ),
))
