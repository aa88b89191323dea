"""The release profile's scoring: the released evaluation code's semantics (Alibaba-NLP/EcomGPT at eaa846f,
`src/data/task_cls.py`, `src/data/task_extract.py`), written here from their behaviour, on the same scoring
libraries (`rouge` 1.0.1, `seqeval` 1.2.2), so that scores can be put beside the paper's.

What the release does, per task type (predictions are never cut at `###`):

- CLS: an empty prediction becomes `error`; otherwise it is stripped and every `.` removed. ROUGE-L between
  that and the gold answer; label sets split on `", "` only.
- Extract: a prediction that is empty once `.` are removed and whitespace stripped becomes `error`. ROUGE-L on
  the prediction as generated; sets split on `", "` after stripping.
- Condition_Extract: a prediction of at most one character (after stripping) becomes `error`, and so does an
  empty gold answer. ROUGE-L as generated; sets split on `", "` without stripping.
- Generate: an empty prediction becomes `error`. ROUGE-L as generated; the "sets" are the sets of characters of
  the stripped prediction and gold (the release hands strings to its set scorer).
- NER: an empty prediction becomes `error`. ROUGE-L as generated; micro / macro F1 from `seqeval` over
  character-level BIO tags: each `Type: a, b` line of the prediction and of the gold answer marks every
  occurrence of each value in the record's sentence (`None` skipped; a later type overwrites an earlier one).

ROUGE-L is the `rouge` package's summary-level ROUGE-L F on unsegmented text (a Chinese sentence without spaces
is one token); the release averages it over records, and so does lm-eval's `mean`. Where the `rouge` package
raises on an empty hypothesis (the release would stop), the record scores 0. Set micro / macro F1 follow the
release's SetScore, which the default profile's `metrics` already implements. All scores are 0-100.
"""

from __future__ import annotations

from collections.abc import Sequence

from ecom_tasks import metrics

LABEL_SEP = ", "
ERROR = "error"
_ROUGE = None


def _rouge():
    global _ROUGE
    if _ROUGE is None:
        from rouge import Rouge

        _ROUGE = Rouge(metrics=["rouge-l"])
    return _ROUGE


def rouge_l(hypothesis: str, reference: str) -> float:
    """The `rouge` package's ROUGE-L F (0-100) of one pair; 0 where it refuses an empty text."""
    try:
        return 100.0 * _rouge().get_scores([hypothesis], [reference], avg=True)["rouge-l"]["f"]
    except ValueError:  # "Hypothesis is empty." / "Reference is empty."
        return 0.0


def release_prediction(task_type: str, raw: str, gold: str) -> tuple[str, str, object, object]:
    """(ROUGE hypothesis, ROUGE reference, predicted items, gold items) as the release forms them."""
    if task_type == "CLS":
        prediction = ERROR if len(raw) == 0 else raw.strip().replace(".", "")
        return prediction, gold, prediction.split(LABEL_SEP), gold.split(LABEL_SEP)
    if task_type == "Extract":
        prediction = ERROR if not raw.replace(".", "").strip() else raw
        return prediction, gold, prediction.strip().split(LABEL_SEP), gold.strip().split(LABEL_SEP)
    if task_type == "Condition_Extract":
        prediction = ERROR if len(raw.strip()) <= 1 else raw
        gold = gold or ERROR
        return prediction, gold, prediction.split(LABEL_SEP), gold.split(LABEL_SEP)
    if task_type == "Generate":
        prediction = ERROR if len(raw) == 0 else raw
        return prediction, gold, prediction.strip(), gold.strip()
    raise ValueError(f"no set scoring for task type {task_type!r}")


def ner_spans(answer: str) -> dict[str, list[str]]:
    """Type -> values of `Type: a, b` lines (first ": " splits; a line ending in ": " is skipped); `{"None":
    ["None"]}` when no line parses, as in the release."""
    spans: dict[str, list[str]] = {}
    for line in answer.split("\n"):
        if ": " not in line or line.endswith(": "):
            continue
        entity_type, values = line.split(": ", 1)
        spans.setdefault(entity_type, [])
        spans[entity_type] += [v for v in values.split(LABEL_SEP) if v not in spans[entity_type]]
    return spans or {"None": ["None"]}


def bio_tags(sentence: str, spans: dict[str, list[str]]) -> list[str]:
    """Character-level BIO tags: every occurrence of every value is marked, in type order, later ones over
    earlier ones; `None` is skipped. (An empty value marks every character `B-` of its type, as the release's
    loop does.)"""
    tags = ["O"] * len(sentence)
    for entity_type, values in spans.items():
        for value in values:
            if value == "None":
                continue
            for start in range(len(sentence)):
                if sentence.startswith(value, start):
                    tags[start] = f"B-{entity_type}"
                    tags[start + 1:start + len(value)] = [f"I-{entity_type}"] * (len(value) - 1)
    return tags


def process(doc: dict, raw: str) -> dict:
    """Per-record items for lm-eval: `rouge_l` (a number) and the micro / macro items of the task type."""
    task_type, gold = doc["task_type"], doc["target"]
    if task_type == "NER":
        prediction = ERROR if len(raw) == 0 else raw
        tags = (bio_tags(doc["sentences"], ner_spans(gold)), bio_tags(doc["sentences"], ner_spans(prediction)))
        return {"rouge_l": rouge_l(prediction, gold), "micro_f1": tags, "macro_f1": tags}
    hypothesis, reference, predicted, expected = release_prediction(task_type, raw, gold)
    pred_set, gold_set = set(predicted), set(expected)
    return {"rouge_l": rouge_l(hypothesis, reference), "micro_f1": metrics.set_counts(pred_set, gold_set),
            "macro_f1": metrics.set_precision_recall(pred_set, gold_set)}


def seqeval_f1(tag_pairs: Sequence[Sequence[list[str]]], average: str) -> float:
    """`seqeval`'s micro or macro average F1 (0-100) over the records' (gold, predicted) tag sequences."""
    from seqeval.metrics import classification_report

    gold = [list(pair[0]) for pair in tag_pairs]
    predicted = [list(pair[1]) for pair in tag_pairs]
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    return 100.0 * float(report[f"{average} avg"]["f1-score"])
