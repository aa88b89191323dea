"""The release profile scores as the released code does (hand-computed values for each of its quirks), its
candidate draw follows the release's distribution but is seeded, and the default profile's defects are fixed."""

from __future__ import annotations

import pytest

from ecom_tasks import metrics
from ecom_tasks.prompts import release_candidates
from ecom_tasks.release_metrics import bio_tags, ner_spans, process, rouge_l, seqeval_f1


def doc(task_type: str, target: str, sentences: str = "") -> dict:
    return {"task_type": task_type, "target": target, "sentences": sentences}


def test_an_empty_prediction_becomes_error_and_counts_as_a_wrong_item():
    scored = process(doc("CLS", "Food"), "")
    assert scored["rouge_l"] == 0.0
    assert scored["micro_f1"] == (0, 1, 1)  # {"error"} against {"Food"}: nothing right, one predicted, one gold
    assert scored["macro_f1"] == (0.0, 0.0)
    assert process(doc("Condition_Extract", "a, b"), " x ")["micro_f1"] == (0, 1, 2)  # one character: "error"
    assert process(doc("Extract", "span"), " . ")["micro_f1"] == (0, 1, 1)


def test_cls_removes_every_period_and_splits_only_on_comma_space():
    assert process(doc("CLS", "Food"), "Food.")["rouge_l"] == pytest.approx(100.0)
    assert process(doc("CLS", "Food, Service"), "Food, Service.")["micro_f1"] == (2, 2, 2)
    full_width = process(doc("CLS", "Food, Service"), "Food，Service")
    assert full_width["micro_f1"] == (0, 1, 2)  # the release sees one unknown item
    assert metrics.set_counts(metrics.label_set("Food，Service"), metrics.label_set("Food, Service")) == (2, 2, 2)


def test_generate_sets_are_character_sets():
    # {a, b, c} against {a, b, d}: two of three characters on each side
    assert process(doc("Generate", "abd"), "abc")["micro_f1"] == (2, 3, 3)
    assert metrics.aggregate_micro_f1([(2, 3, 3)]) == pytest.approx(200 / 3)


def test_chinese_rouge_is_unsegmented():
    # one whitespace-free "token" each: no common token, ROUGE-L 0 (jieba would give partial credit)
    assert rouge_l("红色连衣裙", "红色连衣裙女") == 0.0
    assert metrics.rouge_l("红色连衣裙", "红色连衣裙女", "zh") > 50
    assert rouge_l("a b c d", "a b x d") == pytest.approx(75.0, abs=1e-6)  # LCS 3 of 4 both ways


def test_ner_bio_tags_with_a_value_not_in_the_sentence():
    sentence = "苹果手机红色"
    gold = "品牌: 苹果\n颜色: 红色"
    assert bio_tags(sentence, ner_spans(gold)) == ["B-品牌", "I-品牌", "O", "O", "B-颜色", "I-颜色"]
    absent = "品牌: 苹果\n颜色: 蓝色"  # 蓝色 is nowhere in the sentence: it tags nothing
    assert bio_tags(sentence, ner_spans(absent)) == ["B-品牌", "I-品牌", "O", "O", "O", "O"]
    item = process(doc("NER", gold, sentence), absent)["micro_f1"]
    # entities: gold {品牌@0, 颜色@4}, predicted {品牌@0}: P 1, R 1/2, F1 2/3; macro over 品牌 (1) and 颜色 (0)
    assert seqeval_f1([item], "micro") == pytest.approx(200 / 3)
    assert seqeval_f1([item], "macro") == pytest.approx(50.0)
    assert ner_spans("nothing parses") == {"None": ["None"]}
    assert process(doc("NER", gold, sentence), "")["rouge_l"] == 0.0  # "error"


def test_release_candidates_are_seeded_and_follow_the_release_distribution():
    labels = [f"l{i}" for i in range(167)]
    first = release_candidates(labels, ["l7"], "ZH-OpenBG_Align-CLS-item_fine_classify", 3)
    assert first == release_candidates(labels, ["l7"], "ZH-OpenBG_Align-CLS-item_fine_classify", 3)
    assert "l7" in first and len(set(first)) == len(first) <= 50
    sizes = [len(release_candidates(labels, ["l7"], "T", i)) for i in range(4000)]
    assert 24.5 < sum(sizes) / len(sizes) < 26.2  # a prefix of 0-49 labels plus the gold one: 25.4 expected
    small = [len(release_candidates(["a", "b", "c", "d", "e"], ["a"], "T", i)) for i in range(200)]
    assert min(small) == 1 and max(small) == 5  # a random subset even of a short list, as the release shows


def test_default_profile_defects_are_fixed():
    assert metrics.rouge_l("Food.", "Food", "en") == pytest.approx(100.0)
    assert metrics.rouge_tokens("(Food), service!", "en") == ["Food", "service"]
    assert metrics.rouge_tokens("连衣裙，红色。", "zh") == ["连衣裙", "红色"]
    assert metrics.ner_pairs("Brand: None.\nColor: red.") == {("Color", "red")}
