"""TaoDescribe test split as preprocessed for KOBE (zh): a product title with an aspect tag and a user-group
tag -> a product description (copywriting).

Two line-aligned files, `test.src.str` (`<aspect> <user> ` then the title) and `test.tgt.str` (the
description). Traps (see SOURCE.md): every text is character-tokenised (one space between characters) and
lower-cased; the spaces are removed, which also joins Latin words ("adidasnmdr2"), as the original word
spaces are lost. The tag ids' meanings are not published: they are shown as given. The files must have the
same number of lines; an identical (title, tags, description) is yielded once.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped
from ecomgpt_data.sources import Source, register, task_factory

NAME = "kobe_taodescribe_test"
SOURCE_FILE, TARGET_FILE = "test.src.str", "test.tgt.str"
TAGS = re.compile(r"^<(\d+)> <([a-z])> (.*)$")


def files(root: Path) -> list[Path]:
    return [root / SOURCE_FILE, root / TARGET_FILE]


def untokenise(text: str) -> str:
    return "".join(text.split())


def read(root: Path):
    seen = FirstSeen()
    with (root / SOURCE_FILE).open(encoding="utf-8", errors="surrogateescape") as sources, \
            (root / TARGET_FILE).open(encoding="utf-8", errors="surrogateescape") as targets:
        for number, (source, target) in enumerate(itertools.zip_longest(sources, targets), 1):
            where = f"{SOURCE_FILE}:{number}"
            if source is None or target is None:
                yield Malformed(where, f"{SOURCE_FILE} and {TARGET_FILE} differ in length")
                return
            match = TAGS.match(source.rstrip("\r\n"))
            if not match:
                yield Malformed(where, "expected '<aspect> <user> ' and a title")
                continue
            title, description = untokenise(match[3]), untokenise(target)
            if not title or not description:
                yield Skipped(where, "empty title or description")
                continue
            if seen.again(f"{source}\x1f{target}"):
                yield Skipped(where, "pair already read")
                continue
            yield Record(NAME, where, "zh", "product", f"标题：{title}\n方面标签：<{match[1]}>\n用户标签：<{match[2]}>",
                         target=description, attributes=(("标题", title),), labels={"item": (title,)})


def title_from_description():
    """Reversal: the title of the product a description was written for."""
    def build(record: Record, ctx: at.BuildContext) -> list[at.Example]:
        return [at.Example(record.id, record.target, record.attributes[0][1])]
    return build


_task = task_factory("kobe", NAME, "zh")


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read, derived_from=("TaoDescribe (Taobao)",),
    tasks=(
        _task("description_generation", "GEN", "original", "copy_from_attributes",
              ("product description generation from a title and tags", "根据标题和标签生成商品描述"), at.text_to_target()),
        _task("title_from_description", "GEN", "reversal", "title_generation",
              ("product title generation from a description", "根据商品描述生成标题"), title_from_description()),
        _task("description_title_matching", "CLS", "recombination", "match",
              ("matching a description to a product title", "商品描述与标题匹配"),
              at.target_matching(("匹配", "不匹配"), prefix="描述")),
        _task("description_select", "EXT", "recombination", "select",
              ("selecting the description written for a product", "选出为该商品撰写的描述"),
              at.choose_target(prefix="候选描述")),
    ),
))
