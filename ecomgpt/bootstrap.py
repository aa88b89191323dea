"""Paired bootstrap confidence intervals for the difference between two runs on the Table 4 columns, from the
per-document scores that `lm_eval --log_samples` writes (`samples_<task>_<time>.jsonl` beside the results).

Each resample draws, per task, the task's documents with replacement (seeded); both runs are scored on the
same draw (paired), every task's corpus-level metric is recomputed from the per-document items exactly as the
task aggregates them (mean ROUGE-L, micro-F1 from summed counts, macro-F1 from mean per-record precision /
recall or per-type counts), the Table 4 column is the mean over its tasks, and the interval is the 2.5th and
97.5th percentile of the difference. No library computes a paired bootstrap over lm-eval's per-document items
with these aggregations, so it is written here with numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecom_tasks import metrics
from ecom_tasks.release import Profile



@dataclass
class TaskItems:
    """One task's per-document items of one metric, as numbers: kind "mean" (n,), "micro" (n, 3) of
    (hits, predicted, gold), "pr" (n, 2) of per-record (precision, recall), "types" (n, T, 3) per type."""

    kind: str
    values: np.ndarray


def _f1(p, r):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), 0.0)


def aggregate(items: TaskItems, index: np.ndarray) -> np.ndarray:
    """The task's metric (0-100) for each resample; `index` is (resamples, n) document positions."""
    chosen = items.values[index]
    if items.kind == "mean":
        return chosen.mean(axis=1)
    if items.kind == "micro":
        hits, predicted, gold = (chosen[..., k].sum(axis=1) for k in range(3))
        safe = (predicted > 0) & (gold > 0)
        p = np.where(safe, hits / np.where(predicted > 0, predicted, 1), 0.0)
        r = np.where(safe, hits / np.where(gold > 0, gold, 1), 0.0)
        return 100.0 * np.where(safe, _f1(p, r), 0.0)
    if items.kind == "pr":
        return 100.0 * _f1(chosen[..., 0].mean(axis=1), chosen[..., 1].mean(axis=1))
    # per type: F1 of each type seen (predicted or gold) in the resample, averaged over those types
    totals = chosen.sum(axis=1)  # (resamples, T, 3)
    hits, predicted, gold = totals[..., 0], totals[..., 1], totals[..., 2]
    p = np.where(predicted > 0, hits / np.where(predicted > 0, predicted, 1), 0.0)
    r = np.where(gold > 0, hits / np.where(gold > 0, gold, 1), 0.0)
    seen = (predicted + gold) > 0
    scores = np.where(seen, _f1(p, r), 0.0)
    return 100.0 * np.where(seen.any(axis=1), scores.sum(axis=1) / np.maximum(seen.sum(axis=1), 1), 0.0)


def _entity_counts(gold_tags: list[str], predicted_tags: list[str]) -> dict[str, list[int]]:
    """Per type [hits, predicted, gold] of seqeval's entities ((type, start, end), the type first, as the
    default profile's (type, value) pairs)."""
    from seqeval.metrics.sequence_labeling import get_entities

    return metrics.ner_type_counts(set(get_entities(predicted_tags)), set(get_entities(gold_tags)))


def _per_type(dicts: list[dict]) -> np.ndarray:
    types = sorted({t for d in dicts for t in d})
    array = np.zeros((len(dicts), max(len(types), 1), 3))
    for i, d in enumerate(dicts):
        for j, t in enumerate(types):
            array[i, j] = d.get(t, (0, 0, 0))
    return array


def task_items(samples: list[dict], metric: str) -> TaskItems:
    """The numeric items of one metric from a task's samples (sorted by doc_id)."""
    values = [s[metric] for s in samples]
    first = values[0]
    if metric == "rouge_l" or isinstance(first, (int, float)):  # per-document numbers (invalid_rate too)
        return TaskItems("mean", np.array(values, dtype=float))
    if isinstance(first, dict):  # default NER macro: per-type counts
        return TaskItems("types", _per_type(values))
    if isinstance(first, list) and len(first) == 2 and isinstance(first[0], list):  # release NER: BIO tag pairs
        per_type = [_entity_counts(gold, predicted) for gold, predicted in values]
        if metric == "macro_f1":
            return TaskItems("types", _per_type(per_type))
        return TaskItems("micro", np.array([[sum(c[k] for c in d.values()) for k in range(3)] for d in per_type],
                                           dtype=float).reshape(len(values), 3))
    array = np.array(values, dtype=float)
    return TaskItems("micro" if array.shape[1] == 3 else "pr", array)


def read_samples(results_file: Path) -> dict[str, list[dict]]:
    """Task (without the profile suffix) -> its samples: the `samples_*` files lm-eval wrote beside
    `results_file` with the same time stamp (none without --log_samples)."""
    results_file = Path(results_file)
    stamp = results_file.name.removeprefix("results_").removesuffix(".json")
    samples = {}
    for file in results_file.parent.glob(f"samples_*_{stamp}.jsonl"):
        task = Profile.base(file.name.removeprefix("samples_").removesuffix(f"_{stamp}.jsonl"))
        rows = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        samples[task] = sorted(rows, key=lambda row: row["doc_id"])
    return samples


class _Draws:
    """One seeded set of resampled document positions per task, shared by every column that holds the task."""

    def __init__(self, resamples: int, seed: int):
        self.rng, self.resamples, self.drawn = np.random.default_rng(seed), resamples, {}

    def __call__(self, task: str, documents: int) -> np.ndarray:
        if task not in self.drawn:
            self.drawn[task] = self.rng.integers(0, documents, size=(self.resamples, documents))
        return self.drawn[task]


def _scored(documents: list[dict], metric: str, index: np.ndarray) -> tuple[float, np.ndarray]:
    """A task's metric on all its documents, and on each resample of `index`."""
    items = task_items(documents, metric)
    return aggregate(items, np.arange(len(documents))[None, :])[0], aggregate(items, index)


def _interval(per_task: list[tuple[float, np.ndarray]]) -> tuple[float, float, float]:
    """The column (the mean over its tasks) and its 95% percentile interval over the resamples."""
    values = np.mean([resampled for _, resampled in per_task], axis=0)
    return (float(np.mean([point for point, _ in per_task])), float(np.percentile(values, 2.5)),
            float(np.percentile(values, 97.5)))


def paired_intervals(samples_a: dict, samples_b: dict, columns: list[tuple[str, list[str], str]],
                     resamples: int = 1000, seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Heading -> (A - B, lower, upper) of each column (heading, its tasks, the metric) that both runs hold for
    every task; tasks must hold the same documents in both runs."""
    draws = _Draws(resamples, seed)
    out = {}
    for heading, tasks, metric in columns:
        if not all(t in samples_a and t in samples_b for t in tasks):
            continue
        if not all(metric in samples_a[t][0] and metric in samples_b[t][0] for t in tasks):
            continue
        per_task = []
        for task in tasks:
            a, b = samples_a[task], samples_b[task]
            # the same document ids are not enough: runs over other data (or another --limit draw) reuse the ids;
            # lm-eval's doc_hash says the document itself is the same
            if [(s["doc_id"], s.get("doc_hash")) for s in a] != [(s["doc_id"], s.get("doc_hash")) for s in b]:
                raise ValueError(f"{task}: the two runs scored different documents; a paired bootstrap needs the same")
            index = draws(task, len(a))
            (point_a, resampled_a), (point_b, resampled_b) = _scored(a, metric, index), _scored(b, metric, index)
            per_task.append((point_a - point_b, resampled_a - resampled_b))
        out[heading] = _interval(per_task)
    return out


def run_intervals(samples: dict, columns: list[tuple[str, list[str], str]], resamples: int = 1000,
                  seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Heading -> (score, lower, upper) of each column the run holds for every task: the 95% percentile
    bootstrap interval of one run (its documents drawn with replacement per task, the column the mean over its
    tasks), how far the score could move on another draw of documents of the same kind."""
    draws = _Draws(resamples, seed)
    out = {}
    for heading, tasks, metric in columns:
        if not tasks or not all(t in samples and samples[t] and metric in samples[t][0] for t in tasks):
            continue
        out[heading] = _interval([_scored(samples[t], metric, draws(t, len(samples[t]))) for t in tasks])
    return out


def format_interval(metric_name: str, point: float, lower: float, upper: float) -> str:
    return f"Δ {metric_name} {point:+.1f} [{lower:.1f}, {upper:.1f}]"
