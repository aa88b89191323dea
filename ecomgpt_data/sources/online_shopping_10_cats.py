"""online_shopping_10_cats (zh): 62,774 reviews with a sentiment (1/0) and one of 10 product categories.

Read straight from the zip (CSV `cat,label,review`). Empty reviews are skipped and counted; the stray BOM in
the first review is removed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped
from ecomgpt_data.sources import Source, register, task_factory

NAME = "online_shopping_10_cats"
ARCHIVE = "online_shopping_10_cats.zip"
MEMBER = "online_shopping_10_cats.csv"
CATEGORIES = ("书籍", "平板", "手机", "水果", "洗发水", "热水器", "蒙牛", "衣服", "计算机", "酒店")
SENTIMENTS = {"1": "正面", "0": "负面"}


def files(root: Path) -> list[Path]:
    return [root / ARCHIVE]


def read(root: Path):
    with zipfile.ZipFile(root / ARCHIVE) as archive, archive.open(MEMBER) as raw:
        rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline=""))
        where = f"{ARCHIVE}/{MEMBER}"
        header = next(rows, None)
        if header != ["cat", "label", "review"]:
            yield Malformed(f"{where}:1", f"expected the header cat,label,review, got {header!r}")
            return
        for row in rows:
            origin = f"{where}:{rows.line_num}"
            if len(row) != 3:
                yield Malformed(origin, f"expected 3 fields, got {len(row)}")
                continue
            category, label, review = row
            review = review.replace("\ufeff", "").strip()
            if category not in CATEGORIES:
                yield Malformed(origin, f"unknown category {category!r}")
            elif label not in SENTIMENTS:
                yield Malformed(origin, f"label must be 0 or 1, got {label!r}")
            elif not review:
                yield Skipped(origin, "empty review")
            else:
                yield Record(NAME, origin, "zh", "review", review,
                             labels={"category": (category,), "sentiment": (SENTIMENTS[label],)})


_task = task_factory("online_shopping", NAME, "zh")


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("review_sentiment", "CLS", "original", "classify", ("review sentiment classification", "评论情感分类"),
              at.classify("sentiment", tuple(SENTIMENTS.values()))),
        _task("review_category", "CLS", "original", "classify", ("review product category classification", "评论商品类别分类"),
              at.classify("category", CATEGORIES)),
        _task("review_generation", "GEN", "reversal", "generate_from_labels",
              ("review generation", "评论生成"), at.generate_from_labels(("category", "sentiment"), ("Category", "Sentiment"))),
    ),
))
