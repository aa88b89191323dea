"""The suite's metrics on a 0-100 scale: ROUGE-L (rouge-chinese's F, jieba for Chinese) and set-F1.

Per-record functions return what lm-eval stores per doc; the `aggregate_*` functions are lm-eval
aggregations that turn the task's list of per-record values into one corpus-level number.
Set-F1 follows the released SetScore: micro from summed counts; macro = F1 of (mean per-record P,
mean per-record R), where a record with an empty prediction or gold set has P = R = 0.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import jieba
from rapidfuzz.distance import LCSseq
from rouge_chinese import Rouge

jieba.setLogLevel(logging.WARNING)
_SENTENCES = Rouge(metrics=["rouge-l"]).cut_sent
_ITEM_SPLIT = re.compile(r"[,，]")
_TRAILING_STOP = (".", "。")
STOP_MARK = "###"


def normalise_prediction(text: str) -> str:
    """Cut at the first `###`, strip whitespace. Nothing else (the same for every model)."""
    return text.split(STOP_MARK, 1)[0].strip()


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def _strip_punctuation(token: str) -> str:
    start, end = 0, len(token)
    while start < end and _is_punctuation(token[start]):
        start += 1
    while end > start and _is_punctuation(token[end - 1]):
        end -= 1
    return token[start:end]


@lru_cache(maxsize=1 << 16)
def _tokens(text: str, lang: str) -> tuple[str, ...]:
    # Cached: the same texts recur (class labels, `None`, a task's targets for every run in one process), and
    # jieba's segmentation is the largest part of the scoring time.
    return tuple(rouge_tokens(text, lang))


def clear_caches() -> None:
    """Forget the cached segmentations (benchmarks time a cold scorer)."""
    _tokens.cache_clear()


def rouge_tokens(text: str, lang: str) -> list[str]:
    """Chinese: jieba.lcut (default dictionary, HMM on) without whitespace-only and punctuation-only tokens;
    English: whitespace split, each token stripped of leading and trailing Unicode punctuation, empties dropped
    (so `Food.` and `Food` are one token)."""
    if lang == "zh":
        return [token for token in jieba.lcut(text) if token.strip() and not all(map(_is_punctuation, token.strip()))]
    return [token for token in map(_strip_punctuation, text.split()) if token]


def _rouge_words(tokens: Sequence[str]) -> list[str]:
    """The words rouge-chinese scores for `tokens` joined by spaces: it cuts the text into sentences after
    `。！？?` (and `......`, `……`), squeezes each one's whitespace and splits it on single spaces, so a token
    such as `mic。视为` counts as two words."""
    sentences = [" ".join(part.split()) for part in _SENTENCES(" ".join(tokens)) if len(part) > 0]
    return [word for sentence in sentences for word in sentence.split(" ")]


def rouge_l(prediction: str, reference: str, lang: str) -> float:
    """ROUGE-L F (0-100) of one record, equal to rouge-chinese 1.0.3's `rouge-l` "f" on the tokens joined by
    spaces; an empty prediction (or reference) scores 0.

    rouge-chinese computes the longest common subsequence with a pure-Python table, which was most of the
    suite's scoring time; rapidfuzz's `LCSseq` gives the same length in C++. The words and the formula around
    it are rouge-chinese's, epsilon included (`tests/test_metrics.py` checks equality with rouge-chinese
    itself on the released targets)."""
    hyp, ref = _tokens(prediction, lang), _tokens(reference, lang)
    if not hyp or not ref:
        return 0.0
    hyp, ref = _rouge_words(hyp), _rouge_words(ref)
    lcs = LCSseq.similarity(ref, hyp)
    recall, precision = lcs / len(ref), lcs / len(hyp)
    return 100.0 * 2.0 * ((precision * recall) / (precision + recall + 1e-8))


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


# --- classification: sets of labels --------------------------------------------------------------

def label_set(text: str) -> set[str]:
    """Items split on `,` or `，`, each stripped of whitespace and a trailing `.`/`。`, empties dropped."""
    items = set()
    for item in _ITEM_SPLIT.split(text):
        item = item.strip()
        if item.endswith(_TRAILING_STOP):
            item = item[:-1].strip()
        if item:
            items.add(item)
    return items


def set_counts(pred: set, gold: set) -> tuple[int, int, int]:
    """(|pred ∩ gold|, |pred|, |gold|) of one record."""
    return len(pred & gold), len(pred), len(gold)


def set_precision_recall(pred: set, gold: set) -> tuple[float, float]:
    """Per-record (P, R); P = R = 0 when either set is empty (the released SetScore)."""
    if not pred or not gold:
        return 0.0, 0.0
    hits = len(pred & gold)
    return hits / len(pred), hits / len(gold)


def aggregate_micro_f1(counts: Sequence[Sequence[int]]) -> float:
    """F1 (0-100) from summed (hits, predicted, gold) counts."""
    hits = sum(c[0] for c in counts)
    predicted = sum(c[1] for c in counts)
    gold = sum(c[2] for c in counts)
    if predicted == 0 or gold == 0:
        return 0.0
    return 100.0 * _f1(hits / predicted, hits / gold)


def aggregate_macro_f1(precision_recall: Sequence[Sequence[float]]) -> float:
    """F1 (0-100) of the mean per-record precision and the mean per-record recall."""
    if not precision_recall:
        return 0.0
    precision = sum(p for p, _ in precision_recall) / len(precision_recall)
    recall = sum(r for _, r in precision_recall) / len(precision_recall)
    return 100.0 * _f1(precision, recall)


# --- NER: (type, value) pairs --------------------------------------------------------------------

def ner_pairs(text: str) -> set[tuple[str, str]]:
    """Lines `Type: v1, v2` (split at the first ": ", values on ", ", each stripped of a trailing `.`/`。`) ->
    (type, value) pairs; `None` and empty values are dropped, and so are lines without ": "."""
    pairs = set()
    for line in text.split("\n"):
        if ": " not in line:
            continue
        entity_type, values = line.split(": ", 1)
        entity_type = entity_type.strip()
        for value in values.split(", "):
            value = value.strip()
            if value.endswith(_TRAILING_STOP):  # "None." is no entity, "Apple." is "Apple", as CLS items
                value = value[:-1].strip()
            if entity_type and value and value != "None":
                pairs.add((entity_type, value))
    return pairs


def ner_type_counts(pred: set, gold: set) -> dict[str, list[int]]:
    """Per type: [hits, predicted, gold] of one record, for every type it predicts or holds. The entities are
    tuples whose first item is the type: (type, value) pairs here, seqeval's (type, start, end) in the
    bootstrap."""
    counts: dict[str, list[int]] = {}
    for entity in pred | gold:
        counts.setdefault(entity[0], [0, 0, 0])
    for pair in pred:
        counts[pair[0]][1] += 1
        counts[pair[0]][0] += pair in gold
    for pair in gold:
        counts[pair[0]][2] += 1
    return counts


def aggregate_type_macro_f1(per_record: Sequence[dict]) -> float:
    """Mean over every type seen in gold or predictions anywhere in the task of that type's F1 (0-100);
    a type that is only ever predicted (hallucinated) counts with F1 0."""
    totals: dict[str, list[int]] = {}
    for record in per_record:
        for entity_type, (hits, predicted, gold) in record.items():
            total = totals.setdefault(entity_type, [0, 0, 0])
            total[0] += hits
            total[1] += predicted
            total[2] += gold
    if not totals:
        return 0.0
    scores = [
        _f1(hits / predicted if predicted else 0.0, hits / gold if gold else 0.0)
        for hits, predicted, gold in totals.values()
    ]
    return 100.0 * sum(scores) / len(scores)


# --- answers that cannot be used ------------------------------------------------------------------------------

def _has_type_span_line(text: str) -> bool:
    return any(": " in line and line.split(": ", 1)[0].strip() for line in text.split("\n"))


def invalid(prediction: str, task_type: str, candidates: Sequence[str] = ()) -> bool:
    """Whether an answer (already cut at `###` and stripped) cannot be used, whatever its content:
    empty for every task type; CLS: none of its items is a candidate shown in the prompt; NER: no `type: span`
    line (a line with ": " after a non-empty type; `Brand: None` counts); Condition_Extract, Extract and
    Generate: empty only. (Condition_Extract answers are spans without types, `修身, 羊毛`: the released gold
    answers have no `type: span` line, so that rule would call every gold answer invalid.)"""
    if not prediction:
        return True
    if task_type == "CLS":
        return not (label_set(prediction) & set(candidates))
    if task_type == "NER":
        return not _has_type_span_line(prediction)
    return False
