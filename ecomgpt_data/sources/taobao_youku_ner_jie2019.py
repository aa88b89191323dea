"""Taobao product NER and Youku video NER of Jie et al. 2019 (zh): BIO, `char<SPACE>TAG`, CRLF."""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data.sources import Source, ner_tasks, register, tagged_records

NAME = "taobao_youku_ner_jie2019"
TYPES = {
    "ecommerce": {"HCCX": "商品", "HPPX": "品牌", "XH": "型号", "MISC": "其他"},
    "youku": {"TELEVISION": "影视作品", "PER": "人物", "MISC": "其他"},
}
SPLITS = ("train.txt", "dev.txt", "test.txt")


def files(root: Path) -> list[Path]:
    return [root / subset / split for subset in TYPES for split in SPLITS]


def read(root: Path):
    for path in files(root):
        subset = path.parent.name
        data_type = "product" if subset == "ecommerce" else "query"
        yield from tagged_records(NAME, "zh", data_type, root, path, None, TYPES[subset], subset=subset)


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=ner_tasks("taobao_ner", NAME, "zh", list(TYPES["ecommerce"].values()),
                    ("product named entity recognition", "商品命名实体识别"), subset="ecommerce")
    + ner_tasks("youku_ner", NAME, "zh", list(TYPES["youku"].values()),
                ("video search named entity recognition", "视频搜索命名实体识别"), subset="youku"),
))
