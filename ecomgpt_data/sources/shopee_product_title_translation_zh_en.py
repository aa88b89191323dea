"""Shopee product title translation (zh-TW, en): 1,000 aligned listing titles, Traditional Chinese and English.

Two one-column CSVs (`product_title`, UTF-8 with a BOM) aligned line by line; files of different length are
malformed. A pair with an empty side is skipped and counted.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped
from ecomgpt_data.sources import Source, register, task_factory

NAME = "shopee_product_title_translation_zh_en"
CHINESE, ENGLISH = "dev_tcn.csv", "dev_en.csv"


def files(root: Path) -> list[Path]:
    return [root / CHINESE, root / ENGLISH]


def _titles(path: Path) -> list[str] | str:
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or rows[0] != ["product_title"]:
        return f"expected the header product_title, got {rows[0] if rows else 'an empty file'!r}"
    return [row[0].strip() if len(row) == 1 else "\0" for row in rows[1:]]


def read(root: Path):
    chinese, english = _titles(root / CHINESE), _titles(root / ENGLISH)
    for name, titles in ((CHINESE, chinese), (ENGLISH, english)):
        if isinstance(titles, str):
            yield Malformed(f"{name}:1", titles)
            return
    if len(chinese) != len(english):
        yield Malformed(f"{ENGLISH}:{len(english) + 1}", f"{CHINESE} has {len(chinese)} titles and {ENGLISH} "
                                                          f"{len(english)}; the files must be aligned line by line")
        return
    for number, (zh, en) in enumerate(zip(chinese, english, strict=True), 2):
        origin = f"{CHINESE}:{number}"
        if "\0" in (zh, en):
            yield Malformed(origin, "expected one field per line")
        elif not zh or not en:
            yield Skipped(origin, "a title without its translation")
        else:
            yield Record(NAME, origin, "zh", "product title", zh, target=en)


_task = task_factory("shopee", NAME, "zh")

register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("title_translation_zh_en", "GEN", "original", "generate",
              ("product title translation from Chinese to English", "商品标题中译英"), at.text_to_target()),
        _task("title_translation_en_zh", "GEN", "reversal", "generate",
              ("product title translation from English to Chinese", "商品标题英译中"), at.target_to_text()),
        _task("translation_select", "EXT", "recombination", "select",
              ("selecting the English translation of a product title", "选出商品标题的英文翻译"), at.choose_target()),
    ),
))
