"""McNemar's exact test between two runs on a classification task, from the per-document items that
`lm_eval --log_samples` writes: a document is right when its answer's label set equals the gold set (exact set
match, which is plain accuracy for single-label tasks), read from its `micro_f1` item (hits, predicted, gold):
right iff hits = predicted = gold. Documents are paired by (doc_id, doc_hash), so two runs over other data never
pair. The test itself is statsmodels' `mcnemar(exact=True)` (a two-sided binomial test on the discordant pairs).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class McNemar:
    """`a_only`: documents only run A got right; `b_only`: only B; `pairs`: documents paired."""

    a_only: int
    b_only: int
    pairs: int
    p_value: float

    def text(self) -> str:
        return f"McNemar p={self.p_value:.3g} ({self.a_only} right only in A, {self.b_only} only in B, of {self.pairs})"


def exact_match(item) -> bool:
    """A `micro_f1` item (hits, predicted, gold) of one document: its label set equals the gold set."""
    hits, predicted, gold = (int(x) for x in item)
    return hits == predicted == gold


def right_by_sets(sample: dict) -> bool | None:
    """Whether a logged document's answer is right by exact set match, from its `micro_f1` item of set counts;
    None when the sample holds no such item (a task scored by ROUGE-L only, or the release profile's NER tags)."""
    item = sample.get("micro_f1")
    if isinstance(item, (list, tuple)) and len(item) == 3 and not isinstance(item[0], (list, tuple)):
        return exact_match(item)
    return None


def table(right_a: list[bool], right_b: list[bool]) -> list[list[int]]:
    """The 2x2 table [[both right, only A], [only B, both wrong]] of paired documents."""
    both = sum(a and b for a, b in zip(right_a, right_b, strict=True))
    only_a = sum(a and not b for a, b in zip(right_a, right_b, strict=True))
    only_b = sum(b and not a for a, b in zip(right_a, right_b, strict=True))
    return [[both, only_a], [only_b, len(right_a) - both - only_a - only_b]]


def test(right_a: list[bool], right_b: list[bool]) -> McNemar:
    from statsmodels.stats.contingency_tables import mcnemar

    counts = table(right_a, right_b)
    return McNemar(counts[0][1], counts[1][0], len(right_a), float(mcnemar(counts, exact=True).pvalue))


def between(samples_a: list[dict], samples_b: list[dict]) -> McNemar | None:
    """McNemar on the documents both runs scored (paired by doc_id and doc_hash), or None when they share none
    or the samples hold no `micro_f1` item of set counts."""
    def right(samples):
        verdicts = {(s["doc_id"], s.get("doc_hash")): right_by_sets(s) for s in samples}
        return {key: verdict for key, verdict in verdicts.items() if verdict is not None}

    a, b = right(samples_a), right(samples_b)
    shared = sorted(set(a) & set(b), key=str)
    if not shared:
        return None
    return test([a[k] for k in shared], [b[k] for k in shared])
