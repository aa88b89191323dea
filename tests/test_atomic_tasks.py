"""The three chain-of-task strategies and the instruction schema, on hand-made records."""

from __future__ import annotations

import random

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.atomic_tasks import BuildContext
from ecomgpt_data.instructions import PROMPTS, make_instruction
from ecomgpt_data.records import Record, Span

NER_RECORD = Record("s", "f:1", "zh", "product", "小米充电宝", spans=(Span("小米", "品牌", 0, 2), Span("充电宝", "商品", 2, 5)))
TYPES = ("商品", "品牌", "型号")


def ctx(seed=0, pool=(), label_sets=None):
    return BuildContext(random.Random(seed), list(pool), label_sets or {})


def test_ner_answer_has_one_line_per_type_like_the_evaluation():
    [example] = at.ner(TYPES)(NER_RECORD, ctx())
    assert example.output == "商品: 充电宝\n品牌: 小米\n型号: None"
    assert example.candidates == TYPES and example.input == "小米充电宝"


def test_simplifications_of_ner():
    [spans] = at.span_detection(TYPES)(NER_RECORD, ctx())
    assert spans.output == "小米, 充电宝"
    typed = [at.entity_typing(TYPES)(NER_RECORD, ctx(seed))[0] for seed in range(20)]
    assert {(e.input, e.output) for e in typed} == {("小米充电宝\nEntity: 小米", "品牌"), ("小米充电宝\nEntity: 充电宝", "商品")}
    extracted = {at.typed_extraction(TYPES)(NER_RECORD, ctx(seed))[0] for seed in range(40)}
    assert {(e.candidates, e.output) for e in extracted} == {
        (("商品",), "充电宝"), (("品牌",), "小米"), (("型号",), "None")}
    assert at.entity_typing(TYPES)(Record("s", "f:2", "zh", "product", "无"), ctx()) == []


def test_reversal_question_generation_and_copy_to_attributes():
    qa = Record("s", "q:1", "en", "review", "The sound is crisp.", question="How is the sound?", answers=("crisp",))
    [question] = at.question_generation()(qa, ctx())
    assert question.input == "Context: The sound is crisp.\nAnswer: crisp" and question.output == "How is the sound?"
    [answer] = at.extractive_qa()(qa, ctx())
    assert answer.output == "crisp"
    unanswerable = Record("s", "q:2", "en", "review", "Nice.", question="Price?")
    assert at.question_generation()(unanswerable, ctx()) == []
    assert at.extractive_qa()(unanswerable, ctx())[0].output == "None"
    assert at.answerability()(unanswerable, ctx())[0].output == "unanswerable"

    ad = Record("s", "a:1", "zh", "product", "", attributes=(("类型", "裙"), ("颜色", "红色"), ("材质", "棉")),
                target="红色的裙子")
    [copy] = at.copy_from_attributes()(ad, ctx())
    assert copy.input == "类型: 裙; 颜色: 红色; 材质: 棉" and copy.output == "红色的裙子"
    [back] = at.attributes_from_copy(skip=("类型",))(ad, ctx())
    assert back.output == "颜色: 红色\n材质: None" and back.candidates == ("颜色", "材质")


def _product(i, title, brand):
    return Record("s", f"p:{i}", "en", "product", title, attributes=(("title", title), ("brand", brand), ("price", "1")))


def test_recombination_title_attribute_matching_uses_other_records_as_negatives():
    pool = [_product(i, f"item {i}", f"brand{i}") for i in range(5)]
    record = _product(9, "acme cable", "acme")
    outputs = {}
    for seed in range(30):
        [example] = at.title_attribute_matching("title")(record, ctx(seed, pool))
        outputs.setdefault(example.output, set()).add(example.input)
    assert outputs["match"] == {"Title: acme cable\nAttributes: brand: acme; price: 1"}
    assert all("brand: acme" not in text and text.startswith("Title: acme cable") for text in outputs["not match"])
    # With no other record to borrow from, only positives can be made.
    assert {at.title_attribute_matching("title")(record, ctx(s))[0].output for s in range(10)} == {"match"}


def test_recombination_candidate_select_mixes_in_other_titles():
    pool = [_product(i, f"item {i}", "b") for i in range(6)]
    left = _product(1, "acme cable 2m", "acme")
    pair = Record("s", "p:10", "en", "product", left.text, attributes=left.attributes,
                  other=_product(2, "acme 2 m cable", "acme"), labels={"match": ("1",)})
    [example] = at.candidate_select("title")(pair, ctx(0, pool))
    options = example.input.split("\nCandidate Document: ")[1].split(", ")
    assert example.output == "acme 2 m cable" and example.output in options and len(options) == 5
    assert set(options) - {example.output} <= {f"item {i}" for i in range(6)}
    not_matching = Record("s", "p:11", "en", "product", "x", attributes=left.attributes, other=pair.other,
                          labels={"match": ("0",)})
    assert at.candidate_select("title")(not_matching, ctx(0, pool)) == []


def test_classification_samples_at_most_fifty_candidates_with_the_gold_label():
    labels = tuple(f"c{i}" for i in range(80))
    record = Record("s", "w:1", "en", "query", "sofa", labels={"class": ("c77",)})
    [example] = at.classify("class")(record, ctx(label_sets={"class": labels}))
    assert len(example.candidates) == 50 and "c77" in example.candidates and example.output == "c77"
    [small] = at.classify("class", ("a", "b"))(Record("s", "w:2", "en", "query", "x", labels={"class": ("b",)}), ctx())
    assert small.candidates == ("a", "b")


def test_every_prompt_family_has_three_paraphrases_per_language():
    assert all(len(PROMPTS[f][lang]) >= 3 for f in PROMPTS for lang in ("en", "zh"))


def test_instruction_renders_in_the_evaluation_format_with_six_components():
    instruction = make_instruction(
        family="classify", paradigm="CLS", description=("review sentiment classification", "评论情感分类"),
        input="很好", output="正面", candidates=("正面", "负面"), lang="en", rng=random.Random(0))
    text = instruction.render()
    assert text.startswith("Below is an instruction that describes the review sentiment classification task. "
                           "Write a response that appropriately completes the request.\n### Instruction:\n很好\n")
    assert text.endswith("Candidates: 正面, 负面. Answer with one of the candidates only.\n### Response:")
    assert instruction.prompt in PROMPTS["classify"]["en"][0].format(description="review sentiment classification") + \
        "".join(p.format(description="review sentiment classification") for p in PROMPTS["classify"]["en"])
    bare = make_instruction(
        family="classify", paradigm="CLS", description=("review sentiment classification", "评论情感分类"),
        input="很好", output="正面", candidates=("正面", "负面"), lang="zh", rng=random.Random(0), narrow=True,
        with_constraint=False).render(with_description=False)
    assert bare == ("Below is an instruction that describes a task. Write a response that appropriately completes "
                    "the request.\n### Instruction:\n很好\n对输入进行分类。 候选：正面, 负面。\n### Response:")
