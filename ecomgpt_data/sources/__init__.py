"""The source registry: one small module per raw dataset, each registering a `Source`.

A source names its folder under the raw directory, the files it reads, a reader that streams canonical
records, and its tasks (original + atomic). Adding a dataset = one module calling `register(Source(...))`,
then listing the module in `source_modules:` of a mixture config (or exposing it through the
`ecomgpt_data.sources` entry-point group of an installed package). See the README for a worked example.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.atomic_tasks import TaskSpec
from ecomgpt_data.records import Malformed, Record, Skipped

Item = Record | Skipped | Malformed


@dataclass(frozen=True)
class Source:
    name: str
    lang: str
    folder: str  # under the raw directory
    files: Callable[[Path], list[Path]]  # the files read, given the source folder
    read: Callable[[Path], Iterator[Item]]  # streams items, given the source folder
    tasks: tuple[TaskSpec, ...]
    label_sets: Callable[[Path], dict[str, tuple[str, ...]]] | None = None  # a cheap pre-pass, if needed
    derived_from: tuple[str, ...] = ()  # upstream datasets (checked against the held-out list)


REGISTRY: dict[str, Source] = {}

BUILTIN_MODULES = (
    "ecommerce_ner_ding2019", "taobao_youku_ner_jie2019", "chinese_address_parsing_li2019",
    "online_shopping_10_cats", "chinese_product_absa_peng2018", "ecd_ecommerce_dialogue_sample",
    "advertisegen_dev", "semeval_absa_laptops", "subjqa_products", "product_matching_magellan",
    "sgd_intent_subset", "wands_queries",
    "contextual_product_qa_amazon", "product_ave_oamine_ae110k", "amazon_counterfactual_reviews_en",
    "fewsum_amazon_opinion_summaries", "mgshopdial_shopping_dialogue", "zhijiang_cosmetics_review_opinion",
    "kobe_taodescribe_test",
    "jddc_dialogue_sample_zh", "fewclue_eprstmt_review_sentiment", "gaiic2022_jd_title_ner_sample",
    "amazon_qa_appliances_mcauley", "ppgan_short_title_zh", "zol_phone_review_helpfulness_zh",
    "shopee_product_title_translation_zh_en", "wdc_pave_attribute_extraction_en",
)


def register(source: Source) -> Source:
    if source.name in REGISTRY and REGISTRY[source.name] is not source:
        raise ValueError(f"source {source.name!r} is registered twice")
    known = {t.name for s in REGISTRY.values() if s.name != source.name for t in s.tasks}
    for task in source.tasks:
        if task.name in known:
            raise ValueError(f"source {source.name}: task {task.name!r} already belongs to another source")
        if task.source != source.name:
            raise ValueError(f"source {source.name}: task {task.name!r} says its source is {task.source!r}")
    REGISTRY[source.name] = source
    return source


def load_sources(modules: Sequence[str] = ()) -> dict[str, Source]:
    """Import the built-in source modules, installed plugins and `modules`; return the registry."""
    for name in BUILTIN_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    for entry in entry_points(group="ecomgpt_data.sources"):
        entry.load()
    for name in modules:
        importlib.import_module(name)
    return REGISTRY


def task_factory(dataset: str, source: str, lang: str) -> Callable[..., TaskSpec]:
    """`task(name, paradigm, strategy, family, description, build, subset="")` for one dataset's tasks."""
    def task(name: str, paradigm: str, strategy: str, family: str, description: tuple[str, str], build,
             subset: str = "") -> TaskSpec:
        return TaskSpec(f"{dataset}.{name}", source=source, paradigm=paradigm, lang=lang, strategy=strategy,
                        family=family, description=description, build=build, subset=subset)
    return task


def ner_tasks(dataset: str, source: str, lang: str, types: Sequence[str], description: tuple[str, str],
              subset: str = "", original: str = "ner") -> tuple[TaskSpec, ...]:
    """A span-annotated dataset's original NER task and its three simplifications."""
    common = dict(source=source, lang=lang, subset=subset)
    return (
        TaskSpec(f"{dataset}.{original}", paradigm="NER", strategy="original", family="ner",
                 description=description, build=at.ner(types), **common),
        TaskSpec(f"{dataset}.span_detection", paradigm="EXT", strategy="simplification", family="span_detection",
                 description=("entity span detection", "实体片段检测"), build=at.span_detection(types), **common),
        TaskSpec(f"{dataset}.entity_typing", paradigm="CLS", strategy="simplification", family="entity_typing",
                 description=("entity typing", "实体类型判断"), build=at.entity_typing(types), **common),
        TaskSpec(f"{dataset}.typed_extraction", paradigm="EXT", strategy="simplification", family="typed_extraction",
                 description=("type-conditioned entity extraction", "指定类型实体抽取"),
                 build=at.typed_extraction(types), **common),
    )


def tagged_records(source: str, lang: str, data_type: str, root: Path, path: Path, separator: str | None,
                   type_names: dict[str, str], subset: str = "") -> Iterator[Item]:
    """Records from a token-per-line tagged file (BIO / BIOES)."""
    from ecomgpt_data.records import Span, decode_tags, tagged_blocks

    for block in tagged_blocks(path, root, separator):
        if isinstance(block, Malformed):
            yield block
            continue
        where, chars, tags = block
        try:
            spans: list[Span] = decode_tags(chars, tags, type_names)
        except ValueError as error:
            yield Malformed(where, str(error))
            continue
        yield Record(source, where, lang, data_type, "".join(chars), subset=subset, spans=tuple(spans))
