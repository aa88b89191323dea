"""AdvertiseGen dev split (Shao et al. 2019) (zh): clothing ad copy written from `key#value*key#value` pairs."""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, numbered_lines
from ecomgpt_data.sources import Source, register, task_factory

NAME = "advertisegen_dev"
GARMENT_TYPES = ("上衣", "裙", "裤")  # the values of `类型` in the dataset


def files(root: Path) -> list[Path]:
    return [root / "dev.json"]


def read(root: Path):
    for origin, line in numbered_lines(files(root)[0], root):
        try:
            item = json.loads(line)
            content, summary = item["content"], item["summary"]
            pairs = [part.split("#", 1) for part in content.split("*")]
            if not all(len(pair) == 2 and pair[0] and pair[1] for pair in pairs):
                raise ValueError(f"content is not key#value*key#value: {content!r}")
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as error:
            yield Malformed(origin, f"{type(error).__name__}: {error}")
            continue
        yield Record(NAME, origin, "zh", "product", content, target=summary.strip(),
                     attributes=tuple((key, value) for key, value in pairs))


_task = task_factory("advertisegen", NAME, "zh")


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("ad_generation", "GEN", "original", "copy_from_attributes", ("advertising copy generation", "广告文案生成"),
              at.copy_from_attributes()),
        _task("attribute_extraction", "NER", "reversal", "attributes_from_copy",
              ("attribute value extraction from copy", "文案属性值抽取"), at.attributes_from_copy(skip=("类型",))),
        _task("garment_type", "CLS", "simplification", "attribute_classification",
              ("product type classification", "商品类型分类"), at.attribute_classification("类型", GARMENT_TYPES)),
    ),
))
