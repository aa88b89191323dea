"""Product attribute value extraction (en): the OA-Mine (Amazon) and AE-110K (AliExpress) subsets prepared by
ExtractGPT: a product title, its category and attributes -> the values the title states ("n/a" when none).

JSON Lines `{"input": title, "category": ..., "target_scores": {attribute: {value: 1, ...}}}` under `oa-mine/`
and `ae-110k/`. `train_0.2` is a subset of `train` and is not read; `train` and `test` are, and a title seen
before (OA-Mine's two splits share 3) is skipped and counted. A value that is not in its title (the
SOURCE.md says every value is) makes the record malformed.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped, numbered_lines
from ecomgpt_data.sources import Source, register, task_factory

NAME = "product_ave_oamine_ae110k"
SUBSETS = {"oa-mine": "oamine", "ae-110k": "ae110k"}
SPLITS = ("train", "test")
CATEGORIES = {
    "oamine": ("Breakfast Cereal", "Coffee", "Conditioner", "Laundry Detergent", "Safety Mask", "Shoes", "Sunscreen",
               "Tea", "Toothbrush", "Vitamin"),
    "ae110k": ("Baseball Caps", "Eyewear", "Fishing Rod", "Guitar", "Helmet", "Lure", "Shirts", "Shorts", "Stove",
               "Swimwear"),
}


def files(root: Path) -> list[Path]:
    return [root / folder / f"{split}.jsonl" for folder in SUBSETS for split in SPLITS]


def _record(where: str, subset: str, line: str) -> Record | Malformed:
    try:
        row = json.loads(line)
        title, category, scores = row["input"].strip(), row["category"].strip(), row["target_scores"]
        attributes = tuple((name.strip(), value.strip()) for name, values in scores.items() for value in values)
    except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as error:
        return Malformed(where, f"expected a JSON object with input, category and target_scores ({error})")
    missing = [v for _, v in attributes if v != at.NOT_STATED and v.lower() not in title.lower()]
    if not title or not attributes or missing:
        return Malformed(where, f"empty title or attributes, or values not in the title: {missing[:3]}")
    return Record(NAME, where, "en", "product", title, subset=subset, labels={"category": (category,)},
                  attributes=attributes)


def read(root: Path):
    seen = FirstSeen()
    for folder, subset in SUBSETS.items():
        for split in SPLITS:
            for where, line in numbered_lines(root / folder / f"{split}.jsonl", root):
                item = _record(where, subset, line)
                if isinstance(item, Record) and seen.again(item.text):
                    yield Skipped(item.id, "title already read from another split")
                else:
                    yield item


def title_from_values():
    """Reversal: a title from the category and the values it should state."""
    def build(record: Record, ctx: at.BuildContext) -> list[at.Example]:
        stated = [(k, v) for k, v in record.attributes if v != at.NOT_STATED]
        if not stated:
            return []
        text = f"Category: {record.labels['category'][0]}\nAttributes: {at.serialise(stated)}"
        return [at.Example(record.id, text, record.text)]
    return build


tasks = []
for subset, dataset in (("oamine", "OA-Mine"), ("ae110k", "AE-110K")):
    _task = task_factory(f"ave_{subset}", NAME, "en")
    tasks += [
        _task("attribute_value_extraction", "NER", "original", "attribute_value_lines",
              (f"product attribute value extraction ({dataset})", f"商品属性值抽取（{dataset}）"),
              at.attribute_lines(), subset),
        _task("single_attribute_value", "EXT", "simplification", "attribute_value_extraction",
              (f"single attribute value extraction ({dataset})", f"单个属性值抽取（{dataset}）"),
              at.one_attribute(), subset),
        _task("category_classification", "CLS", "simplification", "classify",
              (f"product category classification from the title ({dataset})", f"根据标题的商品类目分类（{dataset}）"),
              at.classify("category", CATEGORIES[subset]), subset),
        _task("title_generation", "GEN", "reversal", "title_generation",
              (f"product title generation from attribute values ({dataset})", f"根据属性值生成商品标题（{dataset}）"),
              title_from_values(), subset),
    ]

register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read,
    derived_from=("OA-Mine (Amazon)", "AE-110K (AliExpress)"),
    tasks=tuple(tasks),
))
