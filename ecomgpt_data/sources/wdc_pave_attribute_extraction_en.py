"""WDC-PAVE (en): 1,350 web-shop offers (title and description) with the values of 51 attributes, as written
in the offer and normalised.

The two folders hold the same offers (by id), with the values as written and as normalised: one source, read
together. An offer's text is its title and its description (cut at a word boundary); an attribute whose value
is not written in that text counts as not stated ("n/a" in the data is not stated too). Where an attribute has
several written variants, the first found in the text is the answer. Every written value with another
normalised form gives a normalisation record.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, numbered_lines
from ecomgpt_data.sources import Source, register, task_factory

NAME = "wdc_pave_attribute_extraction_en"
RAW = "processed_datasets/wdc_with_all_attributes"
NORMALISED = "processed_datasets/wdc_with_all_attributes_normalized"
SPLITS = ("train_large.jsonl", "test.jsonl")
DESCRIPTION_CHARS = 700


def files(root: Path) -> list[Path]:
    return [root / folder / split for split in SPLITS for folder in (RAW, NORMALISED)]


def _offers(path: Path, root: Path):
    """(origin, offer or the reason it is malformed) per line."""
    for origin, line in numbered_lines(path, root):
        try:
            offer = json.loads(line)
        except ValueError as error:
            offer = f"not JSON ({error})"
        if not isinstance(offer, str) and not (isinstance(offer, dict) and "id" in offer
                                               and isinstance(offer.get("target_scores"), dict)):
            offer = "expected an offer with an id and target_scores"
        yield origin, offer


def _values(scores: dict) -> list[str]:
    return [value for value in scores if value != "n/a"] if isinstance(scores, dict) else []


def _text(offer: dict) -> str:
    title = " ".join(str(offer.get("input_title") or "").split())
    description = " ".join(str(offer.get("input_description") or "").split())
    if len(description) > DESCRIPTION_CHARS:
        description = description[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + " …"
    return f"Title: {title}" + (f"\nDescription: {description}" if description else "")


def read(root: Path):
    for split in SPLITS:
        normalised: dict = {}
        for origin, offer in _offers(root / NORMALISED / split, root):
            if isinstance(offer, str):
                yield Malformed(origin, offer)
            else:
                normalised[offer["id"]] = offer["target_scores"]
        for origin, offer in _offers(root / RAW / split, root):
            if isinstance(offer, str):
                yield Malformed(origin, offer)
                continue
            if offer["id"] not in normalised:
                yield Malformed(origin, f"offer {offer['id']} has no normalised values in {NORMALISED}/{split}")
                continue
            text = _text(offer)
            attributes = []
            for attribute, scores in offer["target_scores"].items():
                written = [v for v in _values(scores) if v in text]
                attributes.append((attribute, written[0] if written else at.NOT_STATED))
                norm = _values(normalised[offer["id"]].get(attribute, {}))
                if written and norm and norm[0] != written[0]:
                    yield Record(NAME, f"{origin}#{attribute}", "en", "attribute value",
                                 f"Attribute: {attribute}\nValue: {written[0]}", subset="normalise", target=norm[0])
            yield Record(NAME, origin, "en", "product offer", text, subset="offer", attributes=tuple(attributes),
                         labels={"category": (str(offer.get("category", "")),)})


_task = task_factory("wdc_pave", NAME, "en")

register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read,
    tasks=(
        _task("attribute_value_extraction", "EXT", "original", "attribute_value_lines",
              ("product attribute value extraction", "商品属性值抽取"), at.attribute_lines(), "offer"),
        _task("one_attribute_value", "EXT", "simplification", "extract",
              ("the value of one product attribute", "单个商品属性值抽取"), at.one_attribute(), "offer"),
        _task("value_normalisation", "GEN", "original", "generate",
              ("normalising a product attribute value", "商品属性值规范化"), at.text_to_target(), "normalise"),
        _task("offer_category", "CLS", "simplification", "classify",
              ("product category classification of a web-shop offer", "网店商品类目分类"),
              at.classify("category"), "offer"),
    ),
    label_sets=lambda root: {"category": ("Computers And Accessories", "Home And Garden", "Office Products",
                                          "Jewelry", "Grocery And Gourmet Food")},
))
