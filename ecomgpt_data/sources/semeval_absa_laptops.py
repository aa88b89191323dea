"""SemEval ABSA, laptops (en): 2014 aspect terms with polarity; 2016 subtask 1 aspect categories with polarity.

The 2015 files are not read: 2016 SB1 holds the 2015 train and test sentences again. 2016 SB2 (the same
reviews at text level) is not read either. XML has no useful line numbers per sentence, so a record's id is
`<file>#<sentence id>`; a file that does not parse is reported with the parser's line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Span
from ecomgpt_data.sources import Source, register, task_factory

NAME = "semeval_absa_laptops"
FILE_2014 = "2014/Laptop_Train_v2.xml"
FILE_2016 = "2016/ABSA16_Laptops_Train_SB1_v2.xml"
POLARITIES = ("positive", "negative", "neutral", "conflict")


def files(root: Path) -> list[Path]:
    return [root / FILE_2014, root / FILE_2016]


def _sentences(root: Path, name: str):
    try:
        for _, element in ET.iterparse(root / name, events=("end",)):
            if element.tag == "sentence":
                yield element
                element.clear()
    except ET.ParseError as error:
        yield Malformed(f"{name}:{error.position[0]}", f"XML does not parse: {error}")


def _record_2014(element) -> Record | Malformed:
    where = f"{FILE_2014}#{element.get('id')}"
    text = element.findtext("text") or ""
    spans = []
    for term in element.iter("aspectTerm"):
        start, end, polarity = int(term.get("from", -1)), int(term.get("to", -1)), term.get("polarity")
        if polarity not in POLARITIES:
            return Malformed(where, f"unknown polarity {polarity!r}")
        if text[start:end] != term.get("term"):
            return Malformed(where, f"aspect {term.get('term')!r} is not at {start}:{end} of the text")
        spans.append(Span(term.get("term"), polarity, start, end))
    return Record(NAME, where, "en", "review", text, subset="2014", spans=tuple(spans))


def _record_2016(element) -> Record | Malformed:
    where = f"{FILE_2016}#{element.get('id')}"
    opinions = [(o.get("category", ""), o.get("polarity", "")) for o in element.iter("Opinion")]
    for category, polarity in opinions:
        if "#" not in category or polarity not in POLARITIES:
            return Malformed(where, f"bad opinion category={category!r} polarity={polarity!r}")
    categories = tuple(dict.fromkeys(category for category, _ in opinions))
    return Record(NAME, where, "en", "review", element.findtext("text") or "", subset="2016",
                  labels={"category": categories} if categories else {},
                  attributes=tuple(dict.fromkeys(opinions)))


def read(root: Path):
    for name, make in ((FILE_2014, _record_2014), (FILE_2016, _record_2016)):
        for element in _sentences(root, name):
            yield element if isinstance(element, Malformed) else make(element)


def label_sets(root: Path) -> dict[str, tuple[str, ...]]:
    categories = set()
    for element in _sentences(root, FILE_2016):
        if not isinstance(element, Malformed):
            categories.update(o.get("category", "") for o in element.iter("Opinion"))
    return {"category": tuple(sorted(categories - {""}))}


_task = task_factory("semeval_laptop", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read, label_sets=label_sets,
    derived_from=("SemEval-2014 Task 4 laptops", "SemEval-2016 Task 5 laptops"),
    tasks=(
        _task("aspect_term_extraction", "EXT", "original", "aspect_extraction", ("aspect term extraction", "方面词抽取"),
              at.aspect_extraction(), "2014"),
        _task("aspect_term_polarity", "CLS", "original", "aspect_polarity", ("aspect term polarity classification", "方面词情感分类"),
              at.aspect_polarity(POLARITIES), "2014"),
        _task("aspect_sentiment_extraction", "NER", "recombination", "aspect_sentiment",
              ("aspect sentiment pair extraction", "方面情感对抽取"), at.ner(POLARITIES), "2014"),
        _task("aspect_category_detection", "CLS", "original", "classify", ("aspect category detection", "方面类别检测"),
              at.classify("category"), "2016"),
        _task("aspect_category_polarity", "CLS", "simplification", "attribute_polarity",
              ("aspect category polarity classification", "方面类别情感分类"), at.attribute_polarity(POLARITIES), "2016"),
    ),
))
