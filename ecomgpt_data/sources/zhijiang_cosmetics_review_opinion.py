"""Zhijiang Cup 2019 opinion mining (zh): cosmetics reviews with (aspect, opinion, category, polarity)
quadruples.

`Train_reviews.csv` (`id,Reviews`) and `Train_labels.csv` (one row per quadruple: `id, AspectTerms, A_start,
A_end, OpinionTerms, O_start, O_end, Categories, Polarities`), UTF-8 CSV. Traps (see SOURCE.md): a missing
term is "_" and its offset cells hold a single space, not an empty string; offsets are 0-based, end
exclusive, and each is checked against the review (a mismatch makes the review malformed). Brand names are
masked as "**" and kept so. The quadruple task is simplified into aspect, opinion, category and polarity
tasks and reversed into writing a review from its opinions.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped, delimited_rows
from ecomgpt_data.sources import Source, register, task_factory

NAME = "zhijiang_cosmetics_review_opinion"
REVIEWS, LABELS = "Train_reviews.csv", "Train_labels.csv"
LABEL_HEADER = ("id", "AspectTerms", "A_start", "A_end", "OpinionTerms", "O_start", "O_end", "Categories", "Polarities")
CATEGORIES = ("整体", "使用体验", "功效", "价格", "物流", "气味", "包装", "真伪", "服务", "其他", "成分", "尺寸", "新鲜度")
POLARITIES = ("正面", "负面", "中性")
NONE = "_"


def files(root: Path) -> list[Path]:
    return [root / REVIEWS, root / LABELS]


def _term(review: str, term: str, start: str, end: str) -> str:
    """The term, checked against the review at its offsets ("_" with blank offsets: no term)."""
    if term == NONE:
        if start.strip() or end.strip():
            raise ValueError(f"'_' with offsets {start!r}:{end!r}")
        return NONE
    begin, stop = int(start.strip()), int(end.strip())
    if review[begin:stop] != term:
        raise ValueError(f"{term!r} is not at {begin}:{stop} of the review")
    return term


def quadruples(root: Path) -> tuple[dict[str, list[tuple[str, str, str, str, str]] | Malformed], Malformed | None]:
    """(per review id its quadruples, each with the origin of its row, or a Malformed for its first bad row;
    a Malformed when the labels file itself is not the expected CSV)."""
    found: dict[str, list | Malformed] = defaultdict(list)
    reviews = {where_row[1]["id"].strip(): where_row[1]["Reviews"] for where_row in
               delimited_rows(root / REVIEWS, root, ",", ("id", "Reviews")) if not isinstance(where_row, Malformed)}
    for item in delimited_rows(root / LABELS, root, ",", LABEL_HEADER):
        if isinstance(item, Malformed):
            return found, item
        where, row = item
        key = row["id"].strip()
        if isinstance(found.get(key), Malformed):
            continue
        try:
            review = reviews[key]
            aspect = _term(review, row["AspectTerms"].strip(), row["A_start"], row["A_end"])
            opinion = _term(review, row["OpinionTerms"].strip(), row["O_start"], row["O_end"])
            category, polarity = row["Categories"].strip(), row["Polarities"].strip()
            if category not in CATEGORIES or polarity not in POLARITIES:
                raise ValueError(f"unknown category {category!r} or polarity {polarity!r}")
        except (KeyError, ValueError) as error:
            found[key] = Malformed(where, f"{type(error).__name__}: {error}")
            continue
        found[key].append((aspect, opinion, category, polarity, where))
    return found, None


def read(root: Path):
    labels, bad_file = quadruples(root)
    if bad_file is not None:
        yield bad_file
        return
    seen = FirstSeen()
    for item in delimited_rows(root / REVIEWS, root, ",", ("id", "Reviews")):
        if isinstance(item, Malformed):
            yield item
            continue
        where, row = item
        review, quads = row["Reviews"].strip(), labels.get(row["id"].strip(), [])
        if isinstance(quads, Malformed):
            yield quads
            continue
        if not review or not quads:
            yield Skipped(where, "a review without text or without a quadruple")
            continue
        if seen.again(review):
            yield Skipped(where, "review already read")
            continue
        phrases = [(a + o if a != NONE else o, c, p) for a, o, c, p, _ in quads if o != NONE or a != NONE]
        yield Record(
            NAME, where, "zh", "review", review,
            labels={"aspect": tuple(dict.fromkeys(a for a, *_ in quads if a != NONE)),
                    "opinion": tuple(dict.fromkeys(o for _, o, *_ in quads if o != NONE)),
                    "category": tuple(c for c in CATEGORIES if any(q[2] == c for q in quads))},
            attributes=tuple(dict.fromkeys([(phrase, p) for phrase, _, p in phrases] + [(phrase, c) for phrase, c, _ in phrases])),
            target="；".join(f"{a}|{o}|{c}|{p}" for a, o, c, p, _ in quads))


_task = task_factory("zhijiang", NAME, "zh")


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read, derived_from=("Zhijiang Cup 2019 (Tianchi)",),
    tasks=(
        _task("quadruple_extraction", "EXT", "original", "extract",
              ("aspect-opinion-category-polarity quadruple extraction (aspect|opinion|category|polarity, '_' for none)",
               "方面-观点-类别-极性四元组抽取（方面|观点|类别|极性，无则为_）"), at.text_to_target()),
        _task("aspect_extraction", "EXT", "simplification", "extract", ("aspect term extraction", "方面词抽取"),
              at.labelled_items("aspect")),
        _task("opinion_extraction", "EXT", "simplification", "extract", ("opinion term extraction", "观点词抽取"),
              at.labelled_items("opinion")),
        _task("opinion_polarity", "CLS", "simplification", "classify", ("opinion polarity classification", "观点情感极性分类"),
              at.pair_classification("观点", POLARITIES)),
        _task("opinion_category", "CLS", "simplification", "classify", ("opinion aspect category classification", "观点方面类别分类"),
              at.pair_classification("观点", CATEGORIES)),
        _task("category_detection", "CLS", "simplification", "classify", ("review aspect category detection", "评论方面类别检测"),
              at.classify("category", CATEGORIES)),
        _task("review_from_opinions", "GEN", "reversal", "generate",
              ("writing a review from its opinion quadruples", "根据观点四元组撰写评论"), at.target_to_text()),
    ),
))
