"""The held-out guard covers what a training text could copy from a held-out record: its text, the titles and
other parts inside combined texts, and its gold answers; planted from all six held-out datasets, alone, inside
longer texts, and with full-width, spacing and case changes."""

from __future__ import annotations

import json
import shutil

import pytest

from ecom_tasks.data import EvalRelease
from ecomgpt_data.config import MixtureConfig
from ecomgpt_data.guard import PART_MIN_UNITS, HeldOutGuard, held_out_parts, normalise, units
from ecomgpt_data.mixture import build


@pytest.fixture(scope="module")
def release(eval_dir) -> EvalRelease:
    return EvalRelease(eval_dir)


@pytest.fixture(scope="module")
def guard(release) -> HeldOutGuard:
    return HeldOutGuard.from_release(release)


def first(release: EvalRelease, folder_part: str, kind: str, specific: bool = True) -> str:
    """The first `kind` text of a folder whose name contains `folder_part` (specific: PART_MIN_UNITS units)."""
    for folder, record in release.all_records():
        if folder_part in folder:
            for found, text in held_out_parts(record):
                if found == kind and (units(text) >= PART_MIN_UNITS) == specific and text != record["sentences"]:
                    return text
    raise AssertionError(f"no {kind} in {folder_part}")


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def variants(text: str) -> list[str]:
    return [text, f"Great deal: {text} - shipped in two days, would buy again", f"【热卖】{text}包邮",
            full_width(text), " ".join(text), text.upper(), text.swapcase().replace(" ", "  ")]


def test_structural_parts_of_every_kind_of_record():
    openbg = {"sentences": "Item 1: 标题甲, 品牌#:#甲,\nItem 2: 标题乙, 品牌#:#乙", "labels": {}}
    assert [t for k, t in held_out_parts(openbg) if k == "part"] == ["标题甲", "品牌#:#甲", "标题乙", "品牌#:#乙"]
    assert [t for k, t in held_out_parts({"sentences": "Title: 标题, Attritute: 颜色#:#红"}) if k == "part"] == \
        ["标题", "颜色#:#红"]
    assert [t for k, t in held_out_parts({"sentences": "标题\t颜色#:#红"}) if k == "part"] == ["标题", "颜色#:#红"]
    cpr = {"sentences": "Query: 落地窗\nCandidate Document: 甲窗, 乙门, 丙柜.", "spans": [{"term": "乙门"}]}
    assert list(held_out_parts(cpr))[1:] == [("part", "落地窗"), ("part", "甲窗"), ("part", "乙门"), ("part", "丙柜"),
                                             ("answer", "乙门")]
    reddit = {"sentences": "Context: It broke.\nQuestion: What broke?", "spans": [{"term": "It"}]}
    assert list(held_out_parts(reddit))[1:] == [("part", "It broke."), ("part", "What broke?"), ("answer", "It")]


@pytest.mark.parametrize(("folder", "kind"), [
    ("ABSA", "sentences"), ("Lenovo-NER", "sentences"), ("Lenovo-NER", "answer"), ("MEPAVE-NER", "sentences"),
    ("Multi_CPR-CLS", "part"), ("Multi_CPR-Extract", "part"), ("Multi_CPR-Extract", "answer"),
    ("OpenBG_Align-CLS-item_align", "part"), ("OpenBG_Align-CLS-title_attribute", "part"),
    ("OpenBG_Align-CLS-item_coarse", "part"), ("OpenBG_Align-Generate", "answer"), ("Reddit_QA", "part"),
    ("Reddit_QA", "answer"),
])
def test_planted_held_out_texts_are_caught_in_every_form(release, guard, folder, kind):
    if kind == "sentences":
        text = next(r["sentences"] for f, r in release.all_records() if folder in f and units(r["sentences"]) >= 6
                    and len(normalise(r["sentences"])) < 40)
    else:
        text = first(release, folder, kind)
    passed = [v for v in variants(text) if guard.match(v) is None]
    assert passed == [], (text, passed)


def test_generic_phrases_of_six_or_seven_units_are_not_guarded_inside_longer_texts(guard):
    """The two phrases that dropped shipped records when parts were guarded from 6 units (see guard.py)."""
    assert guard.match("这件印花立领衬衫，在洁白的底色上以撞色字母印花装饰") is None
    assert guard.match("可折叠旅行包便携式可套拉杆箱行李袋大容量收纳包多功能帆布") is None
    assert guard.match("撞色字母印花") is None  # a gold answer of 6 units: counted as too short, not guarded
    assert guard.match("可折叠旅行包") == ("equality", "可折叠旅行包")  # a query of 6 units: by equality


def test_short_parts_are_guarded_by_equality_and_short_answers_counted(release, guard):
    query = first(release, "Multi_CPR-CLS", "part", specific=False)  # a 2-5 character query
    assert guard.match(query) == ("equality", query) and guard.match(full_width(query).upper())
    assert guard.match(f"我想买{query}和别的东西") is None  # too generic to guard inside a longer text
    summary = guard.summary()
    assert summary["answers_too_short"] > 0 and summary["parts_guarded_by"]["answer"]["equality"] == 0
    assert summary["held_out_texts"] == 6500 and sum(summary["parts_guarded_by"]["part"].values()) > 2000


def test_a_held_out_title_planted_as_a_query_is_dropped_from_the_build(raw_fixture_dir, release, tmp_path):
    """The issue's reproduction: a held-out OpenBG title of 31 characters or fewer appended as a WANDS query."""
    title = next(t for f, r in release.all_records() if "item_align" in f
                 for k, t in held_out_parts(r) if k == "part" and units(t) >= PART_MIN_UNITS and len(normalise(t)) <= 31)
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    with (raw / "wands_queries/query.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"9001\t{title}\tSofas\n9002\tcheap {title} with free shipping\tSofas\n")
    manifest = build(MixtureConfig(raw_dir=str(raw), sources=["wands_queries"]).validate(), tmp_path / "out",
                     progress=False, cache=False)
    rows = [json.loads(line) for line in (tmp_path / "out/mixture.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not [r for r in rows if normalise(title) in normalise(r["prompt"] + r["response"])]
    assert manifest["sources"]["wands_queries"]["guard_dropped_records"] == 2
    assert manifest["guard"]["parts_guarded_by"]["part"]["containment"] > 0
