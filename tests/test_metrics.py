"""Metric unit tests with hand-computed values (0-100 scale)."""

import pytest

from ecom_tasks import metrics, utils


def test_normalisation_cuts_at_first_stop_mark_and_strips():
    assert metrics.normalise_prediction("  Food\n### Instruction:\nmore ### text") == "Food"
    assert metrics.normalise_prediction("\n Food , Price \n") == "Food , Price"
    assert metrics.normalise_prediction("###") == ""


def test_rouge_l_english_splits_on_whitespace():
    # hyp [the red phone], ref [red phone case]: LCS 2, P = R = 2/3 -> F = 2/3
    assert metrics.rouge_l("the red phone", "red phone case", "en") == pytest.approx(200 / 3, rel=1e-6)
    # hyp [a b], ref [a b c d]: LCS 2, P 1, R 1/2 -> F 2/3
    assert metrics.rouge_l("a b", "a b c d", "en") == pytest.approx(200 / 3, rel=1e-6)


def test_rouge_l_equals_rouge_chinese_on_every_released_target(eval_dir):
    """The LCS comes from rapidfuzz; the score must be rouge-chinese's, bit for bit, on the gold targets against
    themselves, against another record's target, a half-and-half mix and a shuffle (the ranking of tasks and the
    paper comparison rest on it)."""
    import random

    from rouge_chinese import Rouge

    from ecom_tasks._generate_configs import TASK_NAMES

    reference = Rouge(metrics=["rouge-l"])

    def rouge_chinese(prediction, target, lang):
        hyp, ref = metrics.rouge_tokens(prediction, lang), metrics.rouge_tokens(target, lang)
        return 0.0 if not hyp or not ref else 100.0 * reference.get_scores(" ".join(hyp), " ".join(ref))[0]["rouge-l"]["f"]

    rng = random.Random(0)
    docs = [doc for name in TASK_NAMES for doc in list(utils.build_docs(name))[:150]]
    targets = [doc["target"] for doc in docs]
    checked = 0
    for doc in docs:
        target, other = doc["target"], rng.choice(targets)
        for prediction in (target, other, target[: len(target) // 2] + other[:20], "".join(rng.sample(target, len(target)))):
            assert metrics.rouge_l(prediction, target, doc["lang"]) == rouge_chinese(prediction, target, doc["lang"]), (prediction, target)
            checked += 1
    assert checked == 4 * len(docs) > 4000


def test_rouge_l_chinese_segments_with_jieba():
    assert metrics.rouge_tokens("圆领拼接连衣裙", "zh") == ["圆领", "拼接", "连衣裙"]
    # words: hyp [圆领 连衣裙], ref [圆领 拼接 连衣裙]: LCS 2, P 1, R 2/3 -> F 0.8
    # (characters would give P 1, R 5/7 -> F 0.833: the segmentation matters)
    assert metrics.rouge_l("圆领连衣裙", "圆领拼接连衣裙", "zh") == pytest.approx(80.0, rel=1e-6)
    # whitespace tokens from jieba are dropped
    assert metrics.rouge_tokens("圆领 连衣裙", "zh") == ["圆领", "连衣裙"]
    assert metrics.rouge_l("圆领 连衣裙", "圆领拼接连衣裙", "zh") == pytest.approx(80.0, rel=1e-6)


@pytest.mark.parametrize("prediction", ["", "   ", "\n\t", "### Response: Food"])
def test_empty_predictions_score_zero(prediction):
    result = utils.process_cls({"target": "Food", "lang": "en"}, [prediction])
    assert result["rouge_l"] == 0.0
    assert result["micro_f1"] == (0, 0, 1)
    assert result["macro_f1"] == (0.0, 0.0)


def test_stop_mark_continuation_is_cut_before_scoring():
    result = utils.process_cls({"target": "Food", "lang": "en"}, ["Food\n### Instruction:\nService, Price"])
    assert result["rouge_l"] == pytest.approx(100.0, rel=1e-6)
    assert result["micro_f1"] == (1, 1, 1)


def test_label_set_splits_on_ascii_and_full_width_commas():
    assert metrics.label_set("Food，Service. , Price。,, ") == {"Food", "Service", "Price"}
    assert metrics.label_set("相同，不相同") == {"相同", "不相同"}
    assert metrics.label_set("") == set()


def test_set_f1_micro_and_macro_differ():
    records = [
        ("A", "A"),  # P 1, R 1
        ("A, B, C, D", "B"),  # P 1/4, R 1
        ("", "C"),  # empty prediction: P = R = 0
    ]
    results = [utils.process_cls({"target": gold, "lang": "en"}, [pred]) for pred, gold in records]
    # micro: hits 2, predicted 5, gold 3 -> P 0.4, R 2/3 -> F1 0.5
    assert utils.micro_f1([r["micro_f1"] for r in results]) == pytest.approx(50.0)
    # macro: mean P 5/12, mean R 2/3 -> F1 20/39
    assert utils.set_macro_f1([r["macro_f1"] for r in results]) == pytest.approx(2000 / 39)


def test_full_width_comma_prediction_matches_gold():
    result = utils.process_cls({"target": "Food, Price", "lang": "en"}, ["Food，Price"])
    assert result["micro_f1"] == (2, 2, 2)
    assert result["macro_f1"] == (1.0, 1.0)


def test_ner_pairs_parse_lines_and_drop_none():
    text = "Brand: Toshiba, Dell\nProduct: None\ngarbage line\nComponent: \nAttribute:missing-space"
    assert metrics.ner_pairs(text) == {("Brand", "Toshiba"), ("Brand", "Dell")}


def test_ner_missing_line_and_hallucinated_type():
    gold_1 = "Attribute: None\nBrand: Toshiba\nComponent: None\nProduct: None"
    gold_2 = "Attribute: None\nBrand: None\nComponent: None\nProduct: Pentium 4 processor"
    gold_3 = "Attribute: None\nBrand: None\nComponent: HT Technology\nProduct: None"
    records = [
        (gold_1, "Brand: Toshiba, Dell\nColor: red"),  # lines missing, one wrong value, a hallucinated type
        (gold_2, "Product: Pentium 4 processor\nBrand: None"),  # exact, other line order
        (gold_3, ""),  # the gold Component line is missing from the prediction
    ]
    results = [utils.process_ner({"target": gold, "lang": "en"}, [pred]) for gold, pred in records]
    assert results[0]["macro_f1"] == {"Brand": [1, 2, 1], "Color": [0, 1, 0]}
    # micro: hits 2, predicted 4, gold 3 -> P 1/2, R 2/3 -> F1 4/7
    assert utils.micro_f1([r["micro_f1"] for r in results]) == pytest.approx(400 / 7)
    # macro over Brand (2/3), Color (0, hallucinated), Product (1), Component (0) -> 5/12
    assert utils.type_macro_f1([r["macro_f1"] for r in results]) == pytest.approx(500 / 12)


def test_aggregations_of_nothing_are_zero():
    assert utils.micro_f1([(0, 0, 3)]) == 0.0
    assert utils.set_macro_f1([]) == 0.0
    assert utils.type_macro_f1([{}]) == 0.0


def test_invalid_answers_per_task_type():
    candidates = ["Food", "Price", "Service"]
    # CLS: invalid when none of the items is a candidate shown (a trailing stop is not part of an item)
    assert not metrics.invalid("Food", "CLS", candidates)
    assert not metrics.invalid("Price, Tasty.", "CLS", candidates)  # one item of two is a candidate
    assert metrics.invalid("Tasty", "CLS", candidates)
    assert metrics.invalid("food", "CLS", candidates)  # items are compared as written
    assert metrics.invalid("", "CLS", candidates)
    # NER: invalid without one `type: span` line; `Brand: None` is a usable answer
    assert not metrics.invalid("Brand: None", "NER")
    assert not metrics.invalid("I think so\nBrand: Lenovo, Acer", "NER")
    assert metrics.invalid("Lenovo, Acer", "NER")
    assert metrics.invalid(": Lenovo", "NER")  # no type before ": "
    assert metrics.invalid("Brand:Lenovo", "NER")  # not the `type: span` format
    assert metrics.invalid("", "NER")
    # Condition_Extract (spans without types, as its gold answers), Extract and Generate: empty only
    for task_type in ("Condition_Extract", "Extract", "Generate"):
        assert not metrics.invalid("anything at all", task_type)
        assert metrics.invalid("", task_type)


def test_invalid_rate_is_the_mean_of_the_documents_items():
    cls = {"target": "Food", "lang": "en", "task_type": "CLS", "candidates": ["Food", "Price"]}
    items = [utils.process_cls(cls, [answer])["invalid_rate"] for answer in ("Food", "Tasty", "  ### Food", "Price")]
    assert items == [0.0, 1.0, 1.0, 0.0]  # "  ### Food" is empty after the cut at ###
    assert sum(items) / len(items) == 0.5
    ner = {"target": "Brand: Acer", "lang": "en", "task_type": "NER", "candidates": ["Brand"]}
    assert utils.process_ner(ner, ["Acer"])["invalid_rate"] == 1.0
    assert utils.process_ner(ner, ["Brand: Acer"])["invalid_rate"] == 0.0
    text = {"target": "a short title", "lang": "en", "task_type": "Generate", "candidates": []}
    assert utils.process_text(text, ["\n"])["invalid_rate"] == 1.0
    assert utils.process_release(text, ["x"])["invalid_rate"] == 0.0


def test_gold_answers_are_never_invalid(eval_dir):
    from ecom_tasks._generate_configs import TASK_NAMES

    for folder in TASK_NAMES:
        for doc in utils.build_docs(folder):
            assert not metrics.invalid(metrics.normalise_prediction(doc["target"]), doc["task_type"], doc["candidates"]), \
                (folder, doc["doc_id"])
