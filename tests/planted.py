"""Held-out evaluation texts planted in copies of the raw fixtures, for the guard's tests."""

from __future__ import annotations

import json
from pathlib import Path


def plant_absa_review(raw: Path, eval_dir: Path) -> str:
    """Append a held-out ABSA test sentence to the counterfactual reviews (as a review labelled 1); returns it."""
    absa = eval_dir / "ABSA/tasks/EN-ABSA-CLS-review_topic_category/test.json"
    sentence = json.loads(absa.read_text(encoding="utf-8").splitlines()[7])["sentences"]
    with (raw / "amazon_counterfactual_reviews_en/data/EN_train.tsv").open("a", encoding="utf-8") as handle:
        handle.write(f"{sentence}\t1\n")
    return sentence
