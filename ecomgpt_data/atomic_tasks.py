"""Training tasks: what a task is (`TaskSpec`) and the builders that turn records into task examples.

Builders follow the paper's three chain-of-task strategies on top of each source's original task(s):
task simplification (NER -> span detection, entity typing, type-conditioned extraction), task reversal
(QA -> question generation, attributes -> copy -> attributes) and sample recombination (matching pairs ->
title-attribute matching with shuffled negatives, candidate selection among mixed records). A builder gets
one record and a `BuildContext` (a per-record seeded RNG, recent records of the same source, label sets)
and returns zero or more `Example`s; it never reads files.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ecom_tasks.prompts import ANSWER_SEP, NO_ENTITY, draw_candidates, ner_target
from ecomgpt_data.records import Record

PARADIGMS = ("CLS", "EXT", "GEN", "NER")
COT_KINDS = ("original", "golden_cot", "pseudo_cot")
STRATEGIES = ("original", "simplification", "reversal", "recombination", "pseudo_label")


@dataclass(frozen=True)
class Example:
    key: str  # unique within the task: the record id plus a variant suffix where a record gives several
    input: str
    output: str
    candidates: tuple[str, ...] = ()


class BuildContext:
    """What a builder gets besides its record: a per-record seeded RNG, earlier records of the same source
    (negatives, distractors) and the source's label sets. Instead of `rng`, `seed` may give a function of no
    argument that returns the RNG's seed; the RNG is then made on first use (most builders draw nothing, and
    hashing the seed and seeding a `random.Random` cost more than many a builder costs to run)."""

    def __init__(self, rng: random.Random | None = None, pool: Iterable[Record] = (),
                 label_sets: dict[str, tuple[str, ...]] | None = None, seed: Callable[[], int] | None = None):
        if (rng is None) == (seed is None):
            raise ValueError("give BuildContext an rng or a seed")
        self._rng, self._seed = rng, seed
        self.pool = pool
        self.label_sets = label_sets or {}

    @property
    def rng(self) -> random.Random:
        if self._rng is None:
            self._rng = random.Random(self._seed())
        return self._rng


Builder = Callable[[Record, BuildContext], Iterable[Example]]


@dataclass(frozen=True)
class TaskSpec:
    name: str  # "<dataset>.<task>", unique over all sources
    source: str
    paradigm: str
    lang: str
    strategy: str
    family: str  # the prompt family in `instructions.PROMPTS`
    description: tuple[str, str]  # (English, Chinese), the head's "describes the ... task"
    build: Builder
    subset: str = ""  # only records of this subset (empty: all records of the source)
    cot_kind: str = ""  # set for pseudo-labelled tasks; otherwise derived from the strategy

    def __post_init__(self):
        if self.paradigm not in PARADIGMS:
            raise ValueError(f"task {self.name}: paradigm {self.paradigm!r} is not one of {PARADIGMS}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"task {self.name}: strategy {self.strategy!r} is not one of {STRATEGIES}")
        if self.cot_kind and self.cot_kind not in COT_KINDS:
            raise ValueError(f"task {self.name}: cot {self.cot_kind!r} is not one of {COT_KINDS}")

    @property
    def cot(self) -> str:
        return self.cot_kind or ("original" if self.strategy == "original" else "golden_cot")


def joined(items: Iterable[str]) -> str:
    """Answer list in the evaluation suite's format: unique items in order, ", "-joined, or "None"."""
    unique = list(dict.fromkeys(item for item in items if item))
    return ANSWER_SEP.join(unique) if unique else NO_ENTITY


# --- NER and its simplifications -------------------------------------------------------------------------

Types = Sequence[str] | str  # the type list, or the key in `record.labels` that holds each record's types


def _types(types: Types, record: Record) -> tuple[str, ...]:
    return tuple(record.labels.get(types, ())) if isinstance(types, str) else tuple(types)


def ner(types: Types) -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        type_list = _types(types, record)
        if not type_list:
            return []
        spans = [{"type": s.type, "term": s.term} for s in record.spans]
        return [Example(record.id, record.text, ner_target(list(type_list), spans), type_list)]
    return build


def span_detection(types: Types) -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        return [Example(record.id, record.text, joined(s.term for s in record.spans), _types(types, record))]
    return build


def entity_typing(types: Types) -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.spans:
            return []
        index = ctx.rng.randrange(len(record.spans))
        span = record.spans[index]
        return [Example(f"{record.id}#{index}", f"{record.text}\nEntity: {span.term}", span.type, _types(types, record))]
    return build


def typed_extraction(types: Types) -> Builder:
    """One type per record: a type present in the record three times out of four, else any type."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        present = list(dict.fromkeys(s.type for s in record.spans))
        type_list = list(_types(types, record))
        if not type_list:
            return []
        wanted = ctx.rng.choice(present) if present and ctx.rng.random() < 0.75 else ctx.rng.choice(type_list)
        terms = (s.term for s in record.spans if s.type == wanted)
        return [Example(f"{record.id}#{wanted}", record.text, joined(terms), (wanted,))]
    return build


# --- classification ----------------------------------------------------------------------------------------

def classify(label_key: str, labels: Types | None = None) -> Builder:
    """The record's `labels[label_key]` among a label set: the one given, each record's own (`labels` names
    a key of `record.labels`), or by default the source's label set for `label_key`."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        gold = record.labels.get(label_key, ())
        if not gold:
            return []
        label_set = ctx.label_sets[label_key] if labels is None else _types(labels, record)
        return [Example(record.id, record.text, ANSWER_SEP.join(gold), tuple(draw_candidates(label_set, gold, ctx.rng)))]
    return build


def generate_from_labels(label_keys: Sequence[str], names: Sequence[str]) -> Builder:
    """Reversal of classification: write a text that has the given labels."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        parts = [f"{name}: {ANSWER_SEP.join(record.labels[key])}" for key, name in zip(label_keys, names, strict=True)
                 if record.labels.get(key)]
        if len(parts) != len(label_keys) or not record.text:
            return []
        return [Example(record.id, "\n".join(parts), record.text)]
    return build


# --- aspects (spans typed by polarity) -------------------------------------------------------------------

def aspect_polarity(polarities: Sequence[str]) -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.spans:
            return []
        index = ctx.rng.randrange(len(record.spans))
        span = record.spans[index]
        return [Example(f"{record.id}#{index}", f"{record.text}\nAspect: {span.term}", span.type, tuple(polarities))]
    return build


def aspect_extraction() -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        return [Example(record.id, record.text, joined(s.term for s in record.spans))]
    return build


def attribute_polarity(polarities: Sequence[str]) -> Builder:
    """(aspect category, polarity) pairs held in `attributes`: the polarity of one category."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.attributes:
            return []
        index = ctx.rng.randrange(len(record.attributes))
        category, polarity = record.attributes[index]
        return [Example(f"{record.id}#{index}", f"{record.text}\nAspect category: {category}", polarity,
                        tuple(polarities))]
    return build


# --- question answering ------------------------------------------------------------------------------------

def extractive_qa() -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        return [Example(record.id, f"Context: {record.text}\nQuestion: {record.question}", joined(record.answers))]
    return build


def question_generation() -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.answers:
            return []
        return [Example(record.id, f"Context: {record.text}\nAnswer: {ANSWER_SEP.join(record.answers)}",
                        record.question)]
    return build


def answerability(yes_no: tuple[str, str] = ("answerable", "unanswerable")) -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        label = yes_no[0] if record.answers else yes_no[1]
        return [Example(record.id, f"Context: {record.text}\nQuestion: {record.question}", label, yes_no)]
    return build


# --- products: pairs, attributes, titles -------------------------------------------------------------------

def serialise(attributes: Sequence[tuple[str, str]], skip: Sequence[str] = ()) -> str:
    return "; ".join(f"{key}: {value}" for key, value in attributes if value and key not in skip)


def pair_matching(labels: tuple[str, str] = ("same", "not same")) -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if record.other is None or "match" not in record.labels:
            return []
        text = f"Item 1: {serialise(record.attributes)}\nItem 2: {serialise(record.other.attributes)}"
        label = labels[0] if record.labels["match"] == ("1",) else labels[1]
        return [Example(record.id, text, label, labels)]
    return build


def _title(attributes: Sequence[tuple[str, str]], title_key: str) -> str:
    return next((value for key, value in attributes if key == title_key), "")


def title_attribute_matching(title_key: str, labels: tuple[str, str] = ("match", "not match")) -> Builder:
    """Recombination: a title with its own attributes, or (half the time) with those of another record."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        title = _title(record.attributes, title_key)
        if not title or not serialise(record.attributes, skip=(title_key,)):
            return []
        attributes, label = record.attributes, labels[0]
        if ctx.rng.random() < 0.5:
            others = [r for r in ctx.pool if r.attributes and _title(r.attributes, title_key) != title]
            if others:
                attributes, label = ctx.rng.choice(others).attributes, labels[1]
        text = f"Title: {title}\nAttributes: {serialise(attributes, skip=(title_key,))}"
        return [Example(record.id, text, label, labels)]
    return build


def candidate_select(title_key: str, distractors: int = 4) -> Builder:
    """Recombination: the matching item's title among titles of other records (a matched pair's right side)."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if record.other is None or record.labels.get("match") != ("1",):
            return []
        query, answer = _title(record.attributes, title_key), _title(record.other.attributes, title_key)
        pool = list(dict.fromkeys(_title(r.attributes, title_key) for r in ctx.pool if r.attributes))
        pool = [t for t in pool if t and t not in (query, answer)]
        if not query or not answer or len(pool) < distractors:
            return []
        options = ctx.rng.sample(pool, distractors) + [answer]
        ctx.rng.shuffle(options)
        text = f"Query: {query}\nCandidate Document: {ANSWER_SEP.join(options)}"
        return [Example(record.id, text, answer)]
    return build


def title_generation(title_key: str) -> Builder:
    """Reversal: attributes -> the title they describe."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        title, rest = _title(record.attributes, title_key), serialise(record.attributes, skip=(title_key,))
        if not title or not rest:
            return []
        return [Example(record.id, rest, title)]
    return build


def attribute_value_extraction(attribute: str, title_key: str) -> Builder:
    """Simplification: an attribute's value as it is written in the title (records whose title holds it)."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        title = _title(record.attributes, title_key)
        value = next((v for k, v in record.attributes if k == attribute), "")
        if not title or not value or value not in title:
            return []
        return [Example(record.id, title, value, (attribute,))]
    return build


def copy_from_attributes(separator: str = "; ") -> Builder:
    """Original generation: attributes -> the copy written for them (`target`)."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.attributes or not record.target:
            return []
        return [Example(record.id, separator.join(f"{k}: {v}" for k, v in record.attributes), record.target)]
    return build


def attributes_from_copy(skip: Sequence[str] = ()) -> Builder:
    """Reversal of copywriting: by attribute of the record (less `skip`), the values that the copy states,
    in the NER answer format."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        keys = list(dict.fromkeys(k for k, _ in record.attributes if k not in skip))
        stated = [{"type": k, "term": v} for k, v in record.attributes if k in keys and v in record.target]
        if not record.target or not stated:
            return []
        return [Example(record.id, record.target, ner_target(keys, stated), tuple(keys))]
    return build


def attribute_classification(attribute: str, labels: Sequence[str]) -> Builder:
    """Simplification: one attribute (e.g. the garment type) from the others."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        value = next((v for k, v in record.attributes if k == attribute), "")
        rest = serialise(record.attributes, skip=(attribute,))
        if value not in labels or not rest:
            return []
        return [Example(record.id, rest, value, tuple(labels))]
    return build


# --- dialogue ----------------------------------------------------------------------------------------------

def _dialogue(record: Record) -> str:
    return "\n".join(record.context)


def response_selection() -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if len(record.candidates) < 2 or not record.target:
            return []
        options = list(record.candidates)
        ctx.rng.shuffle(options)
        text = f"Dialogue: {_dialogue(record)}\nCandidate Response: {' | '.join(options)}"
        return [Example(record.id, text, record.target)]
    return build


def response_generation() -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.context or not record.target:
            return []
        return [Example(record.id, f"Dialogue: {_dialogue(record)}", record.target)]
    return build


def response_matching(labels: tuple[str, str] = ("match", "not match")) -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        wrong = [c for c in record.candidates if c != record.target]
        if not record.target or not wrong:
            return []
        if ctx.rng.random() < 0.5:
            reply, label = ctx.rng.choice(wrong), labels[1]
        else:
            reply, label = record.target, labels[0]
        return [Example(record.id, f"Dialogue: {_dialogue(record)}\nResponse: {reply}", label, labels)]
    return build


# --- pseudo-labelled (the output was written by a model for the record's text) ------------------------------

def text_to_target() -> Builder:
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.text or not record.target:
            return []
        return [Example(record.id, record.text, record.target)]
    return build


# --- generic builders over a record's text, target, labels and attributes -------------------------------------
# Readers of the later sources shape `record.text` as the whole task input, so these few builders serve many
# tasks: the original task, its reversal, and recombinations with other records of the pool.

def same_item(a: Record, b: Record) -> bool:
    """Whether two records are about one item (same text, or the same `labels["item"]`, which a reader sets
    where one product has several records): a recombination never takes the other as a negative."""
    return a.text == b.text or bool(a.labels.get("item")) and a.labels.get("item") == b.labels.get("item")


def target_to_text() -> Builder:
    """Reversal of `text_to_target`: from the written target back to the input text."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.text or not record.target:
            return []
        return [Example(record.id, record.target, record.text)]
    return build


def labelled_items(label_key: str) -> Builder:
    """Extraction: the record's `labels[label_key]` items from its text ("None" when it has none)."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if label_key not in record.labels:
            return []
        return [Example(record.id, record.text, joined(record.labels[label_key]))]
    return build


def pair_classification(prefix: str, labels: Sequence[str]) -> Builder:
    """Simplification: one (item, label) pair of `record.attributes`, the item shown after the text."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        pairs = [(k, v) for k, v in record.attributes if v in labels]
        if not pairs:
            return []
        index = ctx.rng.randrange(len(pairs))
        item, label = pairs[index]
        return [Example(f"{record.id}#{index}", f"{record.text}\n{prefix}: {item}", label, tuple(labels))]
    return build


def choose_target(distractors: int = 3, prefix: str = "Candidates") -> Builder:
    """Recombination: the record's target among `distractors` targets of other records of the pool (or among
    the record's own `candidates`, when it has them)."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.text or not record.target:
            return []
        others = [c for c in record.candidates if c != record.target]
        if not others:
            others = list(dict.fromkeys(r.target for r in ctx.pool if r.subset == record.subset and r.target
                                        and r.target != record.target and not same_item(r, record)))
            if len(others) < distractors:
                return []
            others = ctx.rng.sample(others, distractors)
        options = others + [record.target]
        ctx.rng.shuffle(options)
        listed = "\n".join(f"({i}) {option}" for i, option in enumerate(options, 1))
        return [Example(record.id, f"{record.text}\n{prefix}:\n{listed}", record.target)]
    return build


def target_matching(labels: tuple[str, str] = ("match", "not match"), prefix: str = "Text") -> Builder:
    """Recombination: the record's text with its own target, or (half the time) with another record's."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        if not record.text or not record.target:
            return []
        shown, label = record.target, labels[0]
        if ctx.rng.random() < 0.5:
            others = [r.target for r in ctx.pool if r.subset == record.subset and r.target
                      and r.target != record.target and not same_item(r, record)]
            if not others:
                return []
            shown, label = ctx.rng.choice(others), labels[1]
        return [Example(record.id, f"{record.text}\n{prefix}: {shown}", label, labels)]
    return build


NOT_STATED = "n/a"


def attribute_lines() -> Builder:
    """Attribute value extraction: every attribute of the record, as `type: value` lines ("None" when the
    title does not state it)."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        keys = list(dict.fromkeys(k for k, _ in record.attributes))
        if not keys:
            return []
        stated = [{"type": k, "term": v} for k, v in record.attributes if v != NOT_STATED]
        return [Example(record.id, record.text, ner_target(keys, stated), tuple(keys))]
    return build


def one_attribute() -> Builder:
    """Simplification: the value(s) of one attribute, chosen per record ("None" when not stated)."""
    def build(record: Record, ctx: BuildContext) -> list[Example]:
        keys = list(dict.fromkeys(k for k, _ in record.attributes))
        if not keys:
            return []
        key = ctx.rng.choice(keys)
        values = [v for k, v in record.attributes if k == key and v != NOT_STATED]
        return [Example(f"{record.id}#{key}", record.text, joined(values), (key,))]
    return build
