"""ZOL mobile-phone reviews (zh): 1,904 reviews of three phones, split into pros / cons / summary, with a 1-5
rating and the readers' helpful / unhelpful votes.

Excel files (read with openpyxl), one review per row of the first sheet; their column layouts differ, so
columns are found by header name. A review is helpful when more readers voted it helpful than unhelpful,
unhelpful when fewer; a tie (no votes included) gives it no helpfulness label. A review without a rating has
no rating label; one without pros, cons and summary is skipped and counted.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped
from ecomgpt_data.sources import Source, register, task_factory

NAME = "zol_phone_review_helpfulness_zh"
FILES = ("HTC Z710t_review_2013.6.5.xlsx", "Motorala ME525+_review_2013.6.6.xlsx", "Nokian 5230_review_2013.6.7.xlsx")
COLUMNS = {"rating": "Rating", "title": "Review-title", "pros": "Review-content-advantages",
           "cons": "Review-content-weakness", "summary": "Review-content-summary", "helpful": "Number-of-pros",
           "unhelpful": "Number-of-cons"}
RATINGS = ("1星", "2星", "3星", "4星", "5星")
HELPFULNESS = ("有用", "无用")


def files(root: Path) -> list[Path]:
    return [root / name for name in FILES]


def _cell(row: tuple, index: int) -> str:
    value = row[index] if index < len(row) else None
    return "" if value is None else " ".join(str(value).split())


def read(root: Path):
    import openpyxl  # an explicit dependency: the only xlsx files of the raw data

    for path in files(root):
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            yield Malformed(path.name, f"not a readable xlsx file ({type(error).__name__}: {error})")
            continue
        try:
            rows = book.worksheets[0].iter_rows(values_only=True)
            header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
            missing = [name for name in COLUMNS.values() if name not in header]
            if missing:
                yield Malformed(f"{path.name}:1", f"the first sheet lacks the column(s) {', '.join(missing)}")
                continue
            at_ = {key: header.index(name) for key, name in COLUMNS.items()}
            for number, row in enumerate(rows, 2):
                origin = f"{path.name}:{number}"
                pros, cons, summary = (_cell(row, at_[k]) for k in ("pros", "cons", "summary"))
                if not (pros or cons or summary):
                    yield Skipped(origin, "a review without pros, cons or summary")
                    continue
                labels = {}
                rating = _cell(row, at_["rating"])
                if rating in {"1", "2", "3", "4", "5"}:
                    labels["rating"] = (f"{rating}星",)
                try:
                    helpful, unhelpful = int(float(_cell(row, at_["helpful"]) or 0)), int(float(_cell(row, at_["unhelpful"]) or 0))
                except ValueError:
                    yield Malformed(origin, "the vote counts are not numbers")
                    continue
                if helpful != unhelpful:
                    labels["helpfulness"] = (HELPFULNESS[0] if helpful > unhelpful else HELPFULNESS[1],)
                text = f"优点：{pros}\n缺点：{cons}\n总结：{summary}"
                yield Record(NAME, origin, "zh", "review", text, subset="review", labels=labels)
                if summary and (pros or cons):
                    yield Record(NAME, f"{origin}#summary", "zh", "review", f"优点：{pros}\n缺点：{cons}",
                                 subset="summary", target=summary)
        finally:
            book.close()


_task = task_factory("zol", NAME, "zh")

register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("review_helpfulness", "CLS", "original", "classify", ("review helpfulness prediction", "评论有用性预测"),
              at.classify("helpfulness", HELPFULNESS), "review"),
        _task("review_rating", "CLS", "original", "classify", ("phone review rating prediction", "手机评论评分预测"),
              at.classify("rating", RATINGS), "review"),
        _task("review_summary", "GEN", "original", "generate",
              ("summarising a review from its pros and cons", "根据优缺点写出评论总结"), at.text_to_target(), "summary"),
    ),
))
