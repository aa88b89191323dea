"""WANDS queries (en): Wayfair search queries with their product class (TSV despite the .csv name).
Queries without a class are skipped and counted."""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped
from ecomgpt_data.sources import Source, register, task_factory

NAME = "wands_queries"
HEADER = ["query_id", "query", "query_class"]


def files(root: Path) -> list[Path]:
    return [root / "query.csv"]


def _rows(root: Path):
    with files(root)[0].open(encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            yield number, line.rstrip("\r\n").split("\t")


def read(root: Path):
    for number, fields in _rows(root):
        origin = f"query.csv:{number}"
        if number == 1:
            if fields != HEADER:
                yield Malformed(origin, f"expected the header {HEADER}, got {fields}")
                return
            continue
        if len(fields) != 3 or not fields[1].strip():
            yield Malformed(origin, "expected query_id, a query and query_class separated by tabs")
        elif not fields[2].strip():
            yield Skipped(origin, "query without a class")
        else:
            yield Record(NAME, origin, "en", "query", fields[1].strip(), labels={"class": (fields[2].strip(),)})


def label_sets(root: Path) -> dict[str, tuple[str, ...]]:
    classes = {fields[2].strip() for number, fields in _rows(root) if number > 1 and len(fields) == 3}
    return {"class": tuple(sorted(classes - {""}))}


_task = task_factory("wands", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read, label_sets=label_sets,
    tasks=(
        _task("query_classification", "CLS", "original", "classify", ("query product class classification", "查询商品类目分类"),
              at.classify("class")),
        _task("query_generation", "GEN", "reversal", "generate_from_labels", ("search query generation", "搜索查询生成"),
              at.generate_from_labels(("class",), ("Product class",))),
    ),
))
