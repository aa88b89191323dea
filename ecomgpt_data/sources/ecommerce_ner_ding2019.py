"""E-commerce NER of Ding et al. 2019 (zh): product (HC) and brand (HP) spans, BIOES, `char<TAB>TAG`."""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data.sources import Source, ner_tasks, register, tagged_records

NAME = "ecommerce_ner_ding2019"
TYPES = {"HC": "商品", "HP": "品牌"}
FILES = ("train.txt.bieos", "dev.txt.bieos", "test.txt.bieos")


def files(root: Path) -> list[Path]:
    return [root / name for name in FILES]


def read(root: Path):
    for path in files(root):
        yield from tagged_records(NAME, "zh", "product", root, path, "\t", TYPES)


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=ner_tasks("ecommerce_ner", NAME, "zh", list(TYPES.values()),
                    ("product and brand named entity recognition", "商品与品牌命名实体识别")),
))
