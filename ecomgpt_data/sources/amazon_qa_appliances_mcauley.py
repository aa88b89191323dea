"""Amazon product questions and answers, Appliances (en; McAuley & Yang 2016).

One record per line with `questionType` (yes/no or open-ended), `question`, `answer` and, for yes/no
questions, `answerType` (Y / N / ? for unclear). The file is not valid JSON Lines everywhere: lines that
`json.loads` refuses (escaped apostrophes) are read with `ast.literal_eval`; the few that neither reads are
skipped and counted. Each line gives a question-answer record and, for yes/no questions, a record whose text
shows both (for the answer type).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped, numbered_lines
from ecomgpt_data.sources import Source, register, task_factory

NAME = "amazon_qa_appliances_mcauley"
FILE = "qa_Appliances.json"
QUESTION_TYPES = {"yes/no": "yes/no", "open-ended": "open-ended"}
ANSWER_TYPES = {"Y": "yes", "N": "no", "?": "unclear"}


def files(root: Path) -> list[Path]:
    return [root / FILE]


def _parse(line: str) -> dict | None:
    try:
        return json.loads(line)
    except ValueError:
        pass
    try:
        value = ast.literal_eval(line)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def read(root: Path):
    for origin, line in numbered_lines(root / FILE, root):
        row = _parse(line)
        if row is None:
            yield Skipped(origin, "a line neither JSON nor a Python literal reads")
            continue
        question, answer = str(row.get("question", "")).strip(), str(row.get("answer", "")).strip()
        kind = QUESTION_TYPES.get(row.get("questionType"))
        if kind is None:
            yield Malformed(origin, f"questionType must be yes/no or open-ended, got {row.get('questionType')!r}")
            continue
        if not question or not answer:
            yield Skipped(origin, "a question without an answer")
            continue
        yield Record(NAME, origin, "en", "question", question, subset="qa", target=answer,
                     labels={"question_type": (kind,), "item": (str(row.get("asin", "")),)})
        answer_type = ANSWER_TYPES.get(row.get("answerType"))
        if kind == "yes/no" and answer_type:
            yield Record(NAME, f"{origin}#answer", "en", "question", f"Question: {question}\nAnswer: {answer}",
                         subset="answer", labels={"answer_type": (answer_type,)})


_task = task_factory("amazon_qa", NAME, "en")

register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read, derived_from=("Amazon question/answer data (McAuley)",),
    tasks=(
        _task("answer_generation", "GEN", "original", "generate", ("answering a shopper's product question",
                                                                    "回答顾客的商品问题"), at.text_to_target(), "qa"),
        _task("question_type", "CLS", "original", "classify", ("product question type classification (yes/no or open)",
                                                               "商品问题类型分类"),
              at.classify("question_type", tuple(QUESTION_TYPES.values())), "qa"),
        _task("answer_type", "CLS", "original", "classify",
              ("whether an answer to a yes/no product question says yes, no or is unclear",
               "是非类商品问题的回答倾向判断"), at.classify("answer_type", tuple(ANSWER_TYPES.values())), "answer"),
        _task("question_generation", "GEN", "reversal", "generate",
              ("writing the product question an answer replies to", "根据回答写出商品问题"), at.target_to_text(), "qa"),
    ),
))
