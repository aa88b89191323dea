"""SubjQA, electronics + grocery (en): review-based extractive QA over Amazon reviews.

Unanswerable rows have `human_ans_spans == "ANSWERNOTFOUND"`; every review ends with " ANSWERNOTFOUND", which
is removed. The answer is taken from the review at `human_ans_indices` when that slice equals the annotated
span up to spacing and punctuation (the span was stored tokenised: "anti - glare" for "anti-glare"), else
anywhere in the review; about 1.7% of rows have an answer found nowhere, and are skipped and counted.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped
from ecomgpt_data.sources import Source, register, task_factory

NAME = "subjqa_products"
DOMAINS = ("electronics", "grocery")
SPLITS = ("train", "dev", "test")
NOT_FOUND = "ANSWERNOTFOUND"
INDICES = re.compile(r"^\((\d+), (\d+)\)$")


def files(root: Path) -> list[Path]:
    return [root / domain / f"{split}.csv" for domain in DOMAINS for split in SPLITS]


class AnswerNotInReview(Exception):
    pass


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _answer(review: str, span: str, indices: str) -> str:
    match = INDICES.match(indices.strip())
    if not match:
        raise ValueError(f"human_ans_indices {indices!r} is not '(start, end)'")
    piece = review[int(match[1]):int(match[2])]
    if piece and _letters(piece) == _letters(span):
        return piece
    if span in review:
        return span
    raise AnswerNotInReview("the annotated answer is neither at its indices nor anywhere in the review")


def read(root: Path):
    for path in files(root):
        where = path.relative_to(root).as_posix()
        with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
            rows = csv.DictReader(handle)
            for row in rows:
                origin = f"{where}:{rows.line_num}"
                try:
                    question, review, span = row["question"].strip(), row["review"], row["human_ans_spans"]
                    review = review.removesuffix(NOT_FOUND).strip()
                    answers = () if span == NOT_FOUND else (_answer(review, span, row["human_ans_indices"]),)
                    if not question or not review:
                        raise ValueError("empty question or review")
                except AnswerNotInReview as error:  # an annotation error of the dataset, not a broken file
                    yield Skipped(origin, str(error))
                    continue
                except (KeyError, AttributeError, ValueError) as error:
                    yield Malformed(origin, f"{type(error).__name__}: {error}")
                    continue
                yield Record(NAME, origin, "en", "review", review, question=question, answers=answers,
                             labels={"domain": (row.get("domain", ""),)})


_task = task_factory("subjqa", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read, derived_from=("Amazon reviews (McAuley)",),
    tasks=(
        _task("extractive_qa", "EXT", "original", "extractive_qa", ("review-based question answering", "基于评论的问答"),
              at.extractive_qa()),
        _task("question_generation", "GEN", "reversal", "question_generation", ("question generation", "问题生成"),
              at.question_generation()),
        _task("answerability", "CLS", "simplification", "answerability", ("question answerability", "问题可回答性判断"),
              at.answerability()),
    ),
))
