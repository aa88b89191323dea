"""Product matching pairs from the Magellan benchmark, Ditto serialisation (en): Walmart-Amazon,
Amazon-Google, Abt-Buy.

TSV `left \\t right \\t label`, each side `COL <attr> VAL <value> ...`. Abt-Buy's `name` is read as `title`,
so every record has a title. A record is the left product with the right one as `other`; `labels["match"]`
is "1" or "0".
"""

from __future__ import annotations

import re
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record
from ecomgpt_data.sources import Source, register, task_factory

NAME = "product_matching_magellan"
SUBSETS = ("Walmart-Amazon", "Amazon-Google", "Abt-Buy")
SPLITS = ("train", "valid", "test")
FIELD = re.compile(r"COL (\S+) VAL ")


def files(root: Path) -> list[Path]:
    return [root / subset / f"{split}.txt" for subset in SUBSETS for split in SPLITS]


def parse_side(text: str) -> tuple[tuple[str, str], ...]:
    parts = FIELD.split(text.strip() + " ")
    if parts[0].strip() or len(parts) < 3:
        raise ValueError(f"not a 'COL attr VAL value' record: {text[:80]!r}")
    pairs = []
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        pairs.append(("title" if key == "name" else key, " ".join(value.split())))
    return tuple(pairs)


def read(root: Path):
    for path in files(root):
        where = path.relative_to(root).as_posix()
        with path.open(encoding="utf-8", errors="surrogateescape") as handle:
            for number, line in enumerate(handle, 1):
                origin = f"{where}:{number}"
                fields = line.rstrip("\r\n").split("\t")
                try:
                    if len(fields) != 3 or fields[2] not in ("0", "1"):
                        raise ValueError("expected left record, right record and a 0/1 label")
                    left, right = parse_side(fields[0]), parse_side(fields[1])
                except ValueError as error:
                    yield Malformed(origin, str(error))
                    continue
                title = next((v for k, v in left if k == "title"), "")
                other = Record(NAME, origin + "/right", "en", "product", "", attributes=right)
                yield Record(NAME, origin, "en", "product", title, subset=path.parent.name, attributes=left,
                             other=other, labels={"match": (fields[2],)})


_task = task_factory("product_matching", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read,
    derived_from=("Walmart-Amazon", "Amazon-Google", "Abt-Buy", "DeepMatcher"),
    tasks=(
        _task("product_matching", "CLS", "original", "pair_matching", ("product item match", "商品对齐"),
              at.pair_matching()),
        _task("title_attribute_matching", "CLS", "recombination", "title_attribute_matching",
              ("title attribute matching", "标题属性匹配"), at.title_attribute_matching("title")),
        _task("candidate_select", "EXT", "recombination", "candidate_select", ("product select", "商品选择"),
              at.candidate_select("title")),
        _task("title_generation", "GEN", "reversal", "title_generation", ("product title generation", "商品标题生成"),
              at.title_generation("title")),
        _task("brand_extraction", "EXT", "simplification", "attribute_value_extraction",
              ("brand extraction from title", "标题品牌抽取"), at.attribute_value_extraction("brand", "title")),
    ),
))
