"""Golden prompts and targets in the released format, and the determinism of the 50-candidate draw."""

import hashlib
import os
import subprocess
import sys

import pytest

from ecom_tasks.prompts import cls_candidates, ner_target
from ecom_tasks.release import released_tasks
from ecom_tasks.utils import build_docs

HEAD = "Below is an instruction that describes the {} task. Write a response that appropriately completes the request.\n"


@pytest.fixture(scope="module")
def docs(eval_dir):
    cache = {}

    def get(folder):
        if folder not in cache:
            cache[folder] = build_docs(folder)
        return cache[folder]

    return get


def test_cls_prompt_lists_all_labels_in_meta_order(docs):
    doc = docs("EN-ABSA-CLS-review_topic_category")[0]
    assert doc["prompt"] == (
        HEAD.format("review topic category")
        + "### Instruction:\nThe bread is top notch as well.\n"
        "Select category for the above sentences from the following topics: "
        "Food, Service, Price, Ambience, Anecdotes/Miscellaneous. \n### Response:"
    )
    assert doc["target"] == "Food"
    multi = docs("EN-ABSA-CLS-review_topic_category")[4]
    assert multi["target"] == "Food, Ambience"


def test_ner_prompt_and_one_target_line_per_type(docs):
    doc = docs("EN-Lenovo-NER-NER")[1]
    assert doc["prompt"] == (
        HEAD.format("named entity recognition")
        + "### Instruction:\nThe expert in mobile technology , Toshiba builds laptops to help you think , "
        "collaborate and learn ; in rockstar style .\n"
        "Extract all named entity with type about Attribute, Brand, Component, Product in the sentence. "
        "\n### Response:"
    )
    assert doc["target"] == "Attribute: None\nBrand: Toshiba\nComponent: None\nProduct: None"


def test_ner_target_keeps_span_order_and_groups_by_type():
    spans = [{"type": "B", "term": "x"}, {"type": "A", "term": "y"}, {"type": "B", "term": "z"}]
    assert ner_target(["A", "B", "C"], spans) == "A: y\nB: x, z\nC: None"


def test_condition_extract_and_generate_targets(docs):
    doc = docs("ZH-MEPAVE-Condition_Extract-attribute_value_detection")[0]
    assert doc["prompt"].startswith(HEAD.format("attribute value detection") + "### Instruction:\nHC圆领拼接连衣裙\n")
    assert "Detect all attribute value about 下摆类型, 厚度, 口袋类型," in doc["prompt"]
    assert doc["prompt"].endswith(", 领型, 颜色, 风格 in the sentence. \n### Response:")
    assert doc["target"] == "圆领, 拼接"
    gen = docs("ZH-OpenBG_Align-Generate-title_generate")[0]
    # the released title-generation prompt has no "### Instruction:" line
    assert gen["prompt"].startswith(HEAD.format("product title generation") + "颜色分类#:#图片色#;#")
    assert gen["prompt"].endswith("\nGenerate a product title based on the above attribute information. \n### Response:")
    assert gen["target"] == "韩国东大门2021秋季新款净版修身气质高腰显瘦毛边小脚牛仔裤"


def test_fine_classification_shows_50_candidates_with_the_gold(docs, eval_dir):
    all_docs = docs("ZH-OpenBG_Align-CLS-item_fine_classify")
    doc = all_docs[0]
    assert doc["target"] == "洗发水"
    assert len(doc["candidates"]) == 50 and len(set(doc["candidates"])) == 50
    assert "洗发水" in doc["candidates"]
    assert doc["prompt"].endswith("Candidates: " + ", ".join(doc["candidates"]) + "\n### Response:")
    for d in all_docs:
        assert len(d["candidates"]) == 50 and d["target"] in d["candidates"]
    # the gold is not always in the same slot: the order is shuffled per record
    assert len({d["candidates"].index(d["target"]) for d in all_docs}) > 20
    # distractors differ between records
    assert docs("ZH-OpenBG_Align-CLS-item_fine_classify")[1]["candidates"] != doc["candidates"]


def test_candidate_draw_is_the_same_in_another_process(docs, eval_dir):
    """The prompts of all 500 records hash the same in a fresh interpreter with another hash seed."""
    prompts = "\n".join(d["prompt"] for d in docs("ZH-OpenBG_Align-CLS-item_fine_classify"))
    here = hashlib.sha256(prompts.encode()).hexdigest()
    code = (
        "import hashlib; from ecom_tasks.utils import build_docs; "
        "print(hashlib.sha256('\\n'.join(d['prompt'] for d in build_docs('ZH-OpenBG_Align-CLS-item_fine_classify'))"
        ".encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here
    # pinned: a change here changes every fine-classification prompt, and so every score on it
    assert here == "469b2c1a277b1090e9430572ce232df906905fabc9bdf2ee53bfb1ca49570bb0"


def test_small_label_lists_are_shown_whole():
    labels = ["x", "y", "z"]
    assert cls_candidates(labels, ["z"], "T", 0) == labels
    many = [f"l{i}" for i in range(60)]
    drawn = cls_candidates(many, ["l59", "l3"], "T", 7)
    assert len(drawn) == 50 and {"l59", "l3"} <= set(drawn)
    assert drawn == cls_candidates(many, ["l59", "l3"], "T", 7)
    assert drawn != cls_candidates(many, ["l59", "l3"], "T", 8)


@pytest.mark.slow
@pytest.mark.parametrize("folder", sorted(released_tasks()))
def test_gold_targets_score_100_on_every_metric(docs, folder):
    from ecom_tasks import utils

    paradigm = released_tasks()[folder].paradigm
    process = {"cls": utils.process_cls, "ner": utils.process_ner}.get(paradigm, utils.process_text)
    results = [process(doc, [doc["target"] + "\n### Instruction:\nnext"]) for doc in docs(folder)]
    assert sum(r["rouge_l"] for r in results) / len(results) == pytest.approx(100.0, abs=1e-5)
    if paradigm in ("cls", "ner"):
        macro = utils.set_macro_f1 if paradigm == "cls" else utils.type_macro_f1
        assert utils.micro_f1([r["micro_f1"] for r in results]) == pytest.approx(100.0)
        assert macro([r["macro_f1"] for r in results]) == pytest.approx(100.0)


def test_training_and_evaluation_draw_the_same_candidates(docs):
    """One candidate rule serves both sides: the mixture's classification builder, given a record's evaluation
    RNG, shows exactly the candidates of that record's evaluation prompt (all 500 fine-classification lines,
    whose 167 labels force the draw)."""
    import random

    from ecom_tasks.data import read_meta, read_records
    from ecom_tasks.prompts import label_list, record_seed
    from ecomgpt_data.atomic_tasks import BuildContext, classify
    from ecomgpt_data.records import Record

    folder = "ZH-OpenBG_Align-CLS-item_fine_classify"
    meta = read_meta(folder)
    labels = tuple(label_list(meta))
    assert len(labels) > 50
    build = classify("category")
    for index, (record, doc) in enumerate(zip(read_records(folder), docs(folder), strict=True)):
        gold = tuple(record["labels"][meta["label_key"]])
        training = Record("openbg", f"line{index + 1}", "zh", "CLS", record["sentences"], labels={"category": gold})
        context = BuildContext(rng=random.Random(record_seed(folder, index)), label_sets={"category": labels})
        (example,) = build(training, context)
        assert list(example.candidates) == doc["candidates"]
        assert example.output == doc["target"]


def test_sixty_gold_labels_and_braces_in_an_instruction_render_without_error():
    import random

    from ecom_tasks.prompts import draw_candidates, render_prompt

    labels = [f"label {i}" for i in range(200)]
    gold = labels[:60]
    shown = draw_candidates(labels, gold, random.Random(0))
    assert sorted(shown) == sorted(gold)  # every gold label, no distractor
    meta = {"defi": "d", "label_sep": ", ",
            "test_prompt": {"instruction": 'Answer as {"label": ...}. Text: {sentences} Labels: {label_set}'}}
    prompt = render_prompt(meta, "a {label_set} in the text", ["a", "b"])
    assert prompt.endswith('Answer as {"label": ...}. Text: a {label_set} in the text Labels: a, b')
