"""The plain functions the task YAMLs name with `!function`: loading docs, prompt, target, scoring.

lm-eval loads this file by path, so it imports the installed `ecom_tasks` package by absolute name.
"""

from __future__ import annotations

import logging

import datasets

from ecom_tasks import metrics, release_metrics
from ecom_tasks.data import EvalDataError, gold_outside_labels, read_meta, read_records
from ecom_tasks.prompts import build_doc
from ecom_tasks.release import Profile, released_task

logger = logging.getLogger("ecom_tasks")


class _OurCustomDatasetHint(logging.Filter):
    """lm-eval warns once per task that "Custom kwargs can be passed to --metadata" whenever a task loads its data
    through a function, as all of ours do; for this suite's tasks the hint is noise (12 lines a run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("ecom_") and "Custom kwargs can be passed to `--metadata`" in message)


logging.getLogger("lm_eval.api.task").addFilter(_OurCustomDatasetHint())


def build_docs(ecomgpt_task: str, profile: Profile | str = Profile.DEFAULT) -> list[dict]:
    """All docs of one released folder, doc i = line i + 1 of its test.json. Gold labels outside the task's
    label list are counted and reported in one warning naming the lines."""
    meta = read_meta(ecomgpt_task)
    records = read_records(ecomgpt_task, meta=meta)
    outside = gold_outside_labels(ecomgpt_task, meta, records)
    if outside:
        shown = ", ".join(f"{line}: {label!r}" for line, label in outside[:5])
        logger.warning("ecom_tasks: %s/test.json: %d gold label(s) are not in the task's label list, so no prompt "
                       "shows them (line: label %s%s)", released_task(ecomgpt_task).relative_dir, len(outside), shown,
                       ", ..." if len(outside) > 5 else "")
    return [build_doc(ecomgpt_task, meta, record, i, profile) for i, record in enumerate(records)]


def load_docs(ecomgpt_task: str, profile: Profile | str = Profile.DEFAULT, **_other_metadata) -> datasets.DatasetDict:
    """lm-eval `custom_dataset`: called with the task's metadata (and any --metadata / model args); the
    metadata's `profile` is `default` or `release`.

    A data problem ends the run with the message alone, not with a traceback from inside lm-eval.
    """
    try:
        docs = build_docs(ecomgpt_task, profile)
    except EvalDataError as err:
        raise SystemExit(f"ecom_tasks: {err}") from None
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def doc_to_target(doc: dict) -> str:
    return doc["target"]


def _invalid(doc: dict, prediction: str) -> float:
    """The `invalid_rate` item of a document (1.0: the answer cannot be used; see `metrics.invalid`)."""
    return float(metrics.invalid(prediction, doc.get("task_type", ""), doc.get("candidates", ())))


def process_text(doc: dict, results: list[str]) -> dict:
    """Extract, Condition_Extract and Generate tasks: ROUGE-L, and the invalid-answer rate."""
    prediction = metrics.normalise_prediction(results[0])
    return {"rouge_l": metrics.rouge_l(prediction, doc["target"], doc["lang"]), "invalid_rate": _invalid(doc, prediction)}


def _score_sets(doc: dict, results: list[str], parse, macro_item) -> dict:
    """ROUGE-L plus set-F1 items, with prediction and gold parsed into sets the same way."""
    prediction = metrics.normalise_prediction(results[0])
    pred, gold = parse(prediction), parse(doc["target"])
    return {
        "rouge_l": metrics.rouge_l(prediction, doc["target"], doc["lang"]),
        "micro_f1": metrics.set_counts(pred, gold),
        "macro_f1": macro_item(pred, gold),
        "invalid_rate": _invalid(doc, prediction),
    }


def process_cls(doc: dict, results: list[str]) -> dict:
    """CLS tasks: label sets; macro items are per-record (precision, recall)."""
    return _score_sets(doc, results, metrics.label_set, metrics.set_precision_recall)


def process_ner(doc: dict, results: list[str]) -> dict:
    """NER tasks: (type, value) pairs; macro items are per-type counts."""
    return _score_sets(doc, results, metrics.ner_pairs, metrics.ner_type_counts)


micro_f1 = metrics.aggregate_micro_f1
set_macro_f1 = metrics.aggregate_macro_f1
type_macro_f1 = metrics.aggregate_type_macro_f1


# --- the release profile (release_metrics) -------------------------------------------------------------------

def process_release(doc: dict, results: list[str]) -> dict:
    """Every task type of the release profile: the prediction as generated, scored as the release scores it;
    the invalid-answer rate as in the default profile (it is about the answer, not the scoring)."""
    return {**release_metrics.process(doc, results[0]),
            "invalid_rate": _invalid(doc, metrics.normalise_prediction(results[0]))}


def release_ner_micro_f1(items) -> float:
    return release_metrics.seqeval_f1(items, "micro")


def release_ner_macro_f1(items) -> float:
    return release_metrics.seqeval_f1(items, "macro")
