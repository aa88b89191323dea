"""Chinese address parsing of Li et al. 2019 (zh): 21 address-element labels, BIO, `char<SPACE>TAG`."""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data.sources import Source, ner_tasks, register, tagged_records

NAME = "chinese_address_parsing_li2019"
# The dataset's labels with the Chinese names of its annotation guide (anno/anno-cn.md).
TYPES = {
    "country": "国家", "prov": "省", "city": "市", "district": "区县", "devzone": "开发区", "town": "乡镇",
    "community": "社区", "road": "道路", "roadno": "路号", "poi": "兴趣点", "subpoi": "子兴趣点",
    "houseno": "楼栋号", "cellno": "单元号", "floorno": "楼层号", "roomno": "房间号", "person": "人名",
    "assist": "辅助定位词", "redundant": "冗余", "otherinfo": "其他", "subroad": "子道路", "subroadno": "子路号",
}
# The data spells three labels in two ways (devZone/devzone, subRoad/subroad, subRoadno/subroadno).
TAGS = {**TYPES, "devZone": TYPES["devzone"], "subRoad": TYPES["subroad"], "subRoadno": TYPES["subroadno"]}
SPLITS = ("train.txt", "dev.txt", "test.txt")


def files(root: Path) -> list[Path]:
    return [root / name for name in SPLITS]


def read(root: Path):
    for path in files(root):
        yield from tagged_records(NAME, "zh", "address", root, path, None, TAGS)


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=ner_tasks("address", NAME, "zh", list(TYPES.values()), ("address parsing", "地址要素解析"),
                    original="address_parsing"),
))
