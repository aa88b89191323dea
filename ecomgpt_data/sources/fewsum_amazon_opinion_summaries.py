"""FewSum Amazon gold summaries (en): 8 reviews of a product -> 3 reference summaries; each review's rating.

TSV with header `cat, group_id, rev1..rev8, summ1..summ3, rating1..rating8` ("5.0"), read with the csv module:
one review cell is wrapped in double quotes, which a plain split would keep (see SOURCE.md). A product gives a
record per reference summary (subset "product": the 8 reviews -> the summary) and a record per review
(subset "review": the review -> its rating and its product's category); a review seen before is skipped and
counted. In the summarisation input each review is clipped to about 170 characters (see REVIEW_CHARS).
"""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped, delimited_files
from ecomgpt_data.sources import Source, register, task_factory

NAME = "fewsum_amazon_opinion_summaries"
SPLITS = ("train.csv", "val.csv", "test.csv")
REVIEWS, SUMMARIES = 8, 3
HEADER = ("cat", "group_id", *(f"rev{i}" for i in range(1, REVIEWS + 1)), *(f"summ{i}" for i in range(1, SUMMARIES + 1)),
          *(f"rating{i}" for i in range(1, REVIEWS + 1)))
CATEGORIES = {"cloth": "clothing", "electronics": "electronics", "health_personal_care": "health and personal care",
              "home_kitchen": "home and kitchen"}
# Eight whole reviews (2,076 characters at the median) and a summary exceed the build's default --max-chars
# 2048, so the summarisation input shows each review's first 170 characters or so (the summaries are of the
# products' main opinions, which the reviews state early); the rating task reads whole reviews.
REVIEW_CHARS = 170
RATINGS = ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")


def files(root: Path) -> list[Path]:
    return [root / name for name in SPLITS]


def clip(review: str, limit: int = REVIEW_CHARS) -> str:
    """The review cut at a word boundary before `limit` characters, marked with "…" where cut."""
    if len(review) <= limit:
        return review
    return review[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _rating(value: str) -> str:
    stars = float(value)
    if stars not in (1, 2, 3, 4, 5):
        raise ValueError(f"rating {value!r} is not 1 to 5")
    return RATINGS[int(stars) - 1]


def read(root: Path):
    seen = FirstSeen()
    for item in delimited_files(root, SPLITS, "\t", HEADER):
        if isinstance(item, Malformed):
            yield item
            continue
        where, row = item
        try:
            category = CATEGORIES[row["cat"].strip()]
            reviews = [row[f"rev{i}"].strip() for i in range(1, REVIEWS + 1)]
            ratings = [_rating(row[f"rating{i}"].strip()) for i in range(1, REVIEWS + 1)]
            summaries = [row[f"summ{i}"].strip() for i in range(1, SUMMARIES + 1)]
        except (KeyError, ValueError) as error:
            yield Malformed(where, f"{type(error).__name__}: {error}")
            continue
        if not all(reviews) or not any(summaries):
            yield Malformed(where, "an empty review, or no summary")
            continue
        joined = "\n".join(f"Review {i}: {clip(review)}" for i, review in enumerate(reviews, 1))
        for number, summary in enumerate(summaries, 1):
            if summary:
                yield Record(NAME, f"{where}#summ{number}", "en", "review", joined, subset="product",
                             labels={"category": (category,), "item": (row["group_id"].strip(),)}, target=summary)
        for number, (review, rating) in enumerate(zip(reviews, ratings), 1):
            origin = f"{where}#rev{number}"
            if seen.again(review):
                yield Skipped(origin, "review already read")
                continue
            yield Record(NAME, origin, "en", "review", review, subset="review",
                         labels={"rating": (rating,), "category": (category,)})


_task = task_factory("fewsum", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read, derived_from=("Amazon reviews (McAuley)",),
    tasks=(
        _task("opinion_summarization", "GEN", "original", "opinion_summary",
              ("multi-review opinion summarization", "多评论观点摘要"), at.text_to_target(), "product"),
        _task("review_rating", "CLS", "original", "classify", ("review rating prediction", "评论评分预测"),
              at.classify("rating", RATINGS), "review"),
        _task("review_category", "CLS", "simplification", "classify",
              ("product category classification from a review", "根据评论的商品类目分类"),
              at.classify("category", tuple(CATEGORIES.values())), "review"),
        _task("summary_review_matching", "CLS", "recombination", "match",
              ("matching a summary to the reviews it summarises", "摘要与评论匹配"),
              at.target_matching(prefix="Summary"), "product"),
    ),
))
