"""PPGAN short product titles (zh): long listing titles with their extractive short titles.

Header-less CSVs `id, item_id, if_click, long_title, short_title, short_title_position_index, user_feature`,
titles segmented into words with spaces (joined back here). `click0.csv` repeats each item for several users,
and `test.csv` shares titles with it: a long title read before is skipped and counted. Every short-title word
is a word of the long title at the given (1-based) position; a row where it is not is malformed.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped, unspace_cjk
from ecomgpt_data.sources import Source, register, task_factory

NAME = "ppgan_short_title_zh"
FILES = ("click0.csv", "test.csv")


def files(root: Path) -> list[Path]:
    return [root / name for name in FILES]


def read(root: Path):
    seen = FirstSeen()
    for path in files(root):
        with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
            rows = csv.reader(handle)
            for row in rows:
                origin = f"{path.name}:{rows.line_num}"
                if len(row) != 7:
                    yield Malformed(origin, f"expected 7 fields (id, item_id, if_click, long_title, short_title, "
                                            f"positions, user_feature), got {len(row)}")
                    continue
                long_words, short_words = row[3].split(), row[4].split()
                try:
                    positions = [int(p) - 1 for p in row[5].split()]  # 1-based in the files
                    consistent = min(positions) >= 0 and [long_words[p] for p in positions] == short_words
                except (ValueError, IndexError):
                    consistent = False
                if not long_words or not short_words or not consistent:
                    yield Malformed(origin, "the short title is not the long title's words at the given positions")
                    continue
                if seen.again(row[3]):
                    yield Skipped(origin, "long title already read")
                    continue
                yield Record(NAME, origin, "zh", "product title", unspace_cjk(" ".join(long_words)),
                             target=unspace_cjk(" ".join(short_words)),
                             labels={"words": tuple(dict.fromkeys(short_words)), "item": (row[1],)})


_task = task_factory("ppgan", NAME, "zh")

register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("short_title_generation", "GEN", "original", "generate",
              ("short product title generation", "商品短标题生成"), at.text_to_target()),
        _task("short_title_words", "EXT", "simplification", "extract",
              ("selecting the words of a product title that its short title keeps", "抽取短标题保留的标题词"),
              at.labelled_items("words")),
        _task("short_title_select", "EXT", "recombination", "select",
              ("selecting the short title of a product title", "选出商品标题对应的短标题"), at.choose_target()),
    ),
))
