"""Contextual product QA from Amazon (en): semiPQA, hetPQA and ePQA.

- `semiPQA/data-to-text/*.csv`: an attribute record -> a sentence stating it.
- `semiPQA/attribute_ranking/*.csv`: a question and one attribute record of the product -> relevant (1/0).
- `hetPQA/answer_generation/*.csv`: a question and one evidence snippet (its source: attribute, bullet, Desc,
  OSP, review, CQA) -> a written answer.
- `ePQA/dev.csv`: a question and a candidate sentence -> 2 (answers it), 1 (helpful), 0 (irrelevant), with a
  written answer when it answers.

Traps (see SOURCE.md): semiPQA and hetPQA are TAB-separated with CSV quoting; ePQA is COMMA-separated although
its README says tab, and has no `context` column. Attribute records look like JSON but are not
(`brand: { value:"CHANEL" }`): they are read into `name: value`. A cqa candidate is "<answer> Question: <the
question it answered>": the answer part is kept. Rows of one question are consecutive, which the
recombination tasks (pick the relevant attribute / the answering candidate among the question's own) use.
Pairs repeated across splits are yielded once and the repeats counted.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped, delimited_files, delimited_rows
from ecomgpt_data.sources import Source, register, task_factory

NAME = "contextual_product_qa_amazon"
D2T = [f"semiPQA/data-to-text/{s}.csv" for s in ("train", "dev", "test_seen", "test_unseen")]
RANKING = [f"semiPQA/attribute_ranking/{s}.csv" for s in ("dev", "testseen", "testunseen")]
HETPQA = [f"hetPQA/answer_generation/{s}.csv" for s in ("train", "dev", "test")]
EPQA = "ePQA/dev.csv"
EVIDENCE_SOURCES = ("attribute", "bullet", "description", "seller description", "review", "community answer")
SOURCE_NAMES = {"attribute": "attribute", "bullet": "bullet", "desc": "description", "description": "description",
                "osp": "seller description", "review": "review", "cqa": "community answer"}
GRADES = {"2": "answers the question", "1": "helpful", "0": "irrelevant"}
RELEVANCE = ("relevant", "irrelevant")

ATTRIBUTE = re.compile(r"^\s*([^:{]+?)\s*:\s*\{(.*)\}\s*$", re.S)
NORMALISED = re.compile(r"normalized_value:\s*\{[^{}]*\}\s*,?\s*")
MEASURE = re.compile(r"(\w+):\s*\{\s*unit:\s*([^,}]+?)\s*,\s*value:\s*([^,}]+?)\s*\}")
VALUE = re.compile(r'\bvalue:\s*(?:"((?:[^"\\]|\\.)*)"|([^,}\s]+))')


def files(root: Path) -> list[Path]:
    return [root / name for name in (*D2T, *RANKING, *HETPQA, EPQA)]


def attribute_text(raw: str) -> str | None:
    """`brand: { value:"CHANEL" }` -> "brand: CHANEL"; a measure's unit is kept ("width 9 inches"); "" when
    the record holds no value (`outer: { }`), None when it does not have the `name: { ... }` shape."""
    match = ATTRIBUTE.match(raw)
    if not match:
        return None
    body = NORMALISED.sub("", match[2])
    values = [f"{key.replace('_', ' ')} {value} {unit}" for key, unit, value in MEASURE.findall(body)]
    if not values:
        values = [quoted or bare for quoted, bare in VALUE.findall(body)]
    values = [v.replace('\\"', '"').strip() for v in values if v.strip()]
    if not values:
        return ""
    return f"{match[1].strip().replace('_', ' ')}: {'; '.join(dict.fromkeys(values))}"


def question_groups(rows):
    """(qid, its consecutive (origin, row) pairs), or (None, [Malformed]) for a bad row."""
    for qid, group in itertools.groupby(rows, key=lambda item: None if isinstance(item, Malformed) else item[1]["qid"]):
        yield qid, list(group)


def _data_to_text(root: Path, seen: FirstSeen):
    for item in delimited_files(root, D2T, "\t", ("data", "text")):
        if isinstance(item, Malformed):
            yield item
            continue
        where, row = item
        attribute, sentence = attribute_text(row["data"]), row["text"].strip()
        if attribute is None:
            yield Malformed(where, f"not an attribute record (`name: {{ value:... }}`): {row['data'][:80]!r}")
        elif not attribute or not sentence:
            yield Skipped(where, "attribute record without a value, or no sentence")
        elif seen.again(f"d2t\x1f{attribute}\x1f{sentence}"):
            yield Skipped(where, "pair already read from another split")
        else:
            yield Record(NAME, where, "en", "product", attribute, subset="d2t", target=sentence)


def _ranking(root: Path, seen: FirstSeen):
    for name in RANKING:
        rows = delimited_rows(root / name, root, "\t", ("qid", "qa_pair_id", "question", "candidate", "label"))
        for qid, group in question_groups(rows):
            if qid is None:
                yield from group
                continue
            question = group[0][1]["question"].strip()
            candidates, relevant = [], []
            for where, row in group:
                attribute, label = attribute_text(row["candidate"]), row["label"].strip()
                if label not in ("0", "1"):
                    yield Malformed(where, f"label is {label!r}, not 0 or 1")
                    continue
                if attribute is None:
                    yield Malformed(where, f"not an attribute record: {row['candidate'][:80]!r}")
                    continue
                if not attribute:
                    yield Skipped(where, "attribute record without a value")
                    continue
                if seen.again(f"rank\x1f{question}\x1f{attribute}"):
                    yield Skipped(where, "pair already read from another split")
                    continue
                candidates.append(attribute)
                if label == "1":
                    relevant.append(attribute)
                yield Record(NAME, where, "en", "product", f"Question: {question}\nAttribute: {attribute}",
                             subset="rank", labels={"relevance": (RELEVANCE[0] if label == "1" else RELEVANCE[1],)})
            if relevant and len(candidates) > 1:
                # The first relevant attribute among the others that are not relevant.
                options = tuple(c for c in candidates if c not in relevant[1:])
                yield Record(NAME, f"{name}#q{qid}", "en", "product", f"Question: {question}", subset="rank_question",
                             candidates=options[:12] if relevant[0] in options[:12] else options[:11] + (relevant[0],),
                             target=relevant[0])


def _answer_generation(root: Path, seen: FirstSeen):
    for item in delimited_files(root, HETPQA, "\t", ("ASIN", "question", "candidate", "answer", "source")):
        if isinstance(item, Malformed):
            yield item
            continue
        where, row = item
        question, evidence, answer = row["question"].strip(), row["candidate"].strip(), row["answer"].strip()
        source = SOURCE_NAMES.get(row["source"].strip().lower())
        if source is None:
            yield Malformed(where, f"unknown evidence source {row['source']!r}")
        elif not (question and evidence and answer):
            yield Skipped(where, "empty question, evidence or answer")
        elif seen.again(f"het\x1f{question}\x1f{evidence}"):
            yield Skipped(where, "pair already read from another split")
        else:
            yield Record(NAME, where, "en", "product", evidence, subset="hetpqa", question=question, answers=(answer,),
                         target=answer, labels={"source": (source,)})


def _graded_candidates(root: Path):
    rows = delimited_rows(root / EPQA, root, ",", ("qid", "question", "ASIN", "candidate", "source", "qa_pair_id",
                                                   "title", "label", "answer"))
    for qid, group in question_groups(rows):
        if qid is None:
            yield from group
            continue
        question = group[0][1]["question"].strip()
        graded = []
        for where, row in group:
            grade, candidate = row["label"].strip(), row["candidate"].strip()
            if row["source"].strip().lower() == "cqa":
                candidate = candidate.split(" Question: ", 1)[0].strip()  # "<answer> Question: <its question>"
            if grade not in GRADES:
                yield Malformed(where, f"label is {grade!r}, not 0, 1 or 2")
                continue
            if not candidate:
                yield Skipped(where, "empty candidate")
                continue
            graded.append((grade, candidate))
            yield Record(NAME, where, "en", "product", f"Question: {question}\nCandidate: {candidate}", subset="epqa",
                         labels={"grade": (GRADES[grade],)},
                         target=row["answer"].strip() if grade == "2" else "")
        answering = [c for g, c in graded if g == "2"]
        irrelevant = list(dict.fromkeys(c for g, c in graded if g == "0"))
        if answering and len(irrelevant) >= 2:
            yield Record(NAME, f"{EPQA}#q{qid}", "en", "product", f"Question: {question}", subset="epqa_question",
                         candidates=tuple([answering[0], *irrelevant[:4]]), target=answering[0])


def read(root: Path):
    seen = FirstSeen()
    yield from _data_to_text(root, seen)
    yield from _ranking(root, seen)
    yield from _answer_generation(root, seen)
    yield from _graded_candidates(root)


def answer_generation():
    def build(record: Record, ctx: at.BuildContext) -> list[at.Example]:
        return [at.Example(record.id, f"Evidence: {record.text}\nQuestion: {record.question}", record.target)]
    return build


_task = task_factory("pqa", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read, derived_from=("Amazon product QA (Amazon Science)",),
    tasks=(
        _task("attribute_to_text", "GEN", "original", "generate", ("attribute-to-sentence generation", "属性转写为句子"),
              at.text_to_target(), "d2t"),
        _task("text_to_attribute", "EXT", "reversal", "generate",
              ("attribute record extraction from a sentence", "从句子中抽取属性记录"), at.target_to_text(), "d2t"),
        _task("attribute_relevance", "CLS", "original", "classify",
              ("question-attribute relevance classification", "问题与属性相关性判断"),
              at.classify("relevance", RELEVANCE), "rank"),
        _task("attribute_select", "EXT", "recombination", "select",
              ("selecting the product attribute that answers a question", "选出回答问题的商品属性"),
              at.choose_target(prefix="Attributes"), "rank_question"),
        _task("answer_generation", "GEN", "original", "answer_generation",
              ("answer generation from product evidence", "基于商品证据的答案生成"), answer_generation(), "hetpqa"),
        _task("question_generation", "GEN", "reversal", "question_generation", ("question generation", "问题生成"),
              at.question_generation(), "hetpqa"),
        _task("evidence_source", "CLS", "simplification", "classify",
              ("evidence source type classification", "证据来源类型分类"),
              at.classify("source", EVIDENCE_SOURCES), "hetpqa"),
        _task("answer_grading", "CLS", "original", "classify",
              ("grading a candidate answer to a product question", "商品问题候选答案评级"),
              at.classify("grade", tuple(GRADES.values())), "epqa"),
        _task("answer_rewriting", "GEN", "original", "answer_generation",
              ("answer writing from an answering sentence", "根据答案句撰写回答"), at.text_to_target(), "epqa"),
        _task("answer_select", "EXT", "recombination", "select",
              ("selecting the candidate sentence that answers a question", "选出回答问题的候选句"),
              at.choose_target(prefix="Candidates"), "epqa_question"),
    ),
))
