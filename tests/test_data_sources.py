"""Each raw-source reader on hand-written fixtures: records, spans, labels, skips and malformed input."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomgpt_data.records import Malformed, Record, Skipped, decode_tags, unspace_cjk
from ecomgpt_data.sources import load_sources

SOURCES = load_sources()


def read(raw: Path, name: str) -> list:
    source = SOURCES[name]
    return list(source.read(raw / source.folder))


def records(raw: Path, name: str) -> list[Record]:
    items = read(raw, name)
    assert not [i for i in items if isinstance(i, Malformed)], items
    return [i for i in items if isinstance(i, Record)]


def spans(record: Record) -> list[tuple[str, str]]:
    for span in record.spans:
        assert record.text[span.start:span.end] == span.term
    return [(s.term, s.type) for s in record.spans]


def test_registry_has_twelve_sources_and_enough_tasks():
    assert len(SOURCES) == 12
    tasks = [t for s in SOURCES.values() for t in s.tasks]
    assert len({t.name for t in tasks}) == len(tasks) >= 45
    assert {t.paradigm for t in tasks} == {"CLS", "EXT", "GEN", "NER"}
    assert {t.lang for t in tasks} == {"en", "zh"}
    assert {t.cot for t in tasks} == {"original", "golden_cot"}
    assert {t.strategy for t in tasks} == {"original", "simplification", "reversal", "recombination"}


def test_decode_bioes_and_bio():
    assert decode_tags(list("abcd"), ["B-X", "E-X", "S-Y", "O"]) == [
        type(decode_tags(["a"], ["S-X"])[0])("ab", "X", 0, 2), type(decode_tags(["a"], ["S-X"])[0])("c", "Y", 2, 3)]
    assert [(s.term, s.start, s.end) for s in decode_tags(["12", "号", "楼"], ["B-n", "I-n", "O"])] == [("12号", 0, 3)]
    with pytest.raises(ValueError, match="continues no open"):
        decode_tags(list("ab"), ["O", "I-X"])
    with pytest.raises(ValueError, match="unknown entity type 'Z'"):
        decode_tags(list("a"), ["B-Z"], {"X": "x"})


def test_unspace_cjk_keeps_ascii_word_gaps():
    assert unspace_cjk("我 的 iPhone 6 很 好") == "我的iPhone 6很好"


def test_ding_ner_bioes_with_a_literal_space(raw_fixture_dir):
    first, second, *_ = records(raw_fixture_dir, "ecommerce_ner_ding2019")
    assert first.text == "小米 充电宝"
    assert spans(first) == [("小米", "品牌"), ("充电宝", "商品")]
    assert spans(second) == [("华为", "品牌"), ("手机壳", "商品")]
    assert first.id == "train.txt.bieos:1"


def test_taobao_youku_crlf_and_subsets(raw_fixture_dir):
    items = records(raw_fixture_dir, "taobao_youku_ner_jie2019")
    assert [r.subset for r in items] == ["ecommerce"] * 3 + ["youku"] * 3
    assert spans(items[0]) == [("苹果", "品牌"), ("X1", "型号"), ("数据线", "商品")]
    assert items[1].text == "耐克 跑鞋"
    assert spans(items[4]) == [("西游记", "影视作品")]
    assert items[5].spans == ()


def test_address_multi_character_tokens_and_label_spellings(raw_fixture_dir):
    first, second, _ = records(raw_fixture_dir, "chinese_address_parsing_li2019")
    assert first.text == "浙江省杭州市文一路88号西区"
    assert spans(first) == [("浙江省", "省"), ("杭州市", "市"), ("文一路", "道路"), ("88号", "路号"), ("西区", "开发区")]
    assert spans(second)[-1] == ("南路", "子道路")


def test_address_unknown_label_is_malformed_with_its_line(tmp_path):
    folder = tmp_path / "chinese_address_parsing_li2019"
    folder.mkdir()
    (folder / "train.txt").write_text("北 B-city\n京 I-city\n\n上 B-planet\n\n", encoding="utf-8")
    for name in ("dev.txt", "test.txt"):
        (folder / name).write_text("", encoding="utf-8")
    items = read(tmp_path, "chinese_address_parsing_li2019")
    assert isinstance(items[0], Record)
    assert items[1] == Malformed("train.txt:4", "unknown entity type 'planet' at token 1")


def test_online_shopping_zip_bom_and_empty_review(raw_fixture_dir):
    items = read(raw_fixture_dir, "online_shopping_10_cats")
    kept = [i for i in items if isinstance(i, Record)]
    assert [r.text for r in kept] == ["这本书写得很好，值得一读", "苹果不新鲜, 有坏的", "屏幕清楚，电池耐用"]
    assert kept[1].labels == {"category": ("水果",), "sentiment": ("负面",)}
    assert [i for i in items if isinstance(i, Skipped)] == [
        Skipped("online_shopping_10_cats.zip/online_shopping_10_cats.csv:4", "empty review")]


def test_peng_absa_groups_a_sentence_and_unmasks_repeated_aspects(raw_fixture_dir):
    items = records(raw_fixture_dir, "chinese_product_absa_peng2018")
    first, second, phone = items
    assert first.text == "画质很清晰，电池一般"
    assert spans(first) == [("画质", "正面"), ("电池", "负面")]
    assert second.text == "镜头好，镜头真的好" and spans(second) == [("镜头", "正面")]
    assert first.labels == {"domain": ("相机",)} and phone.labels == {"domain": ("手机",)}


def test_ecd_groups_replies_by_context(raw_fixture_dir):
    train, test = records(raw_fixture_dir, "ecd_ecommerce_dialogue_sample")
    assert train.context == ("你好", "在的亲", "什么时候发货") and train.target == "今天下午发货哦"
    assert train.candidates == ("今天下午发货哦", "不支持退货")
    assert test.target == "满100减10哦" and len(test.candidates) == 3


def test_advertisegen_attributes(raw_fixture_dir):
    first, _ = records(raw_fixture_dir, "advertisegen_dev")
    assert first.attributes == (("类型", "裙"), ("颜色", "红色"), ("风格", "简约"))
    assert first.target == "这款红色连衣裙简约大方。"


def test_advertisegen_bad_json_names_its_line(tmp_path):
    (tmp_path / "advertisegen_dev").mkdir()
    (tmp_path / "advertisegen_dev" / "dev.json").write_text('{"content": "类型#裙", "summary": "好"}\n{"content": 1\n')
    items = read(tmp_path, "advertisegen_dev")
    assert isinstance(items[0], Record)
    assert isinstance(items[1], Malformed) and items[1].origin == "dev.json:2"


def test_semeval_2014_terms_and_2016_categories(raw_fixture_dir):
    items = records(raw_fixture_dir, "semeval_absa_laptops")
    assert spans(items[0]) == [("battery life", "positive"), ("screen", "negative")]
    assert items[1].spans == () and items[1].subset == "2014"
    assert items[2].labels == {"category": ("LAPTOP#PORTABILITY", "KEYBOARD#QUALITY")}
    assert items[2].attributes == (("LAPTOP#PORTABILITY", "positive"), ("KEYBOARD#QUALITY", "negative"))
    source = SOURCES["semeval_absa_laptops"]
    assert source.label_sets(raw_fixture_dir / source.folder) == {
        "category": ("KEYBOARD#QUALITY", "LAPTOP#PORTABILITY", "SUPPORT#QUALITY")}


def test_subjqa_answers_unanswerable_and_annotation_errors(raw_fixture_dir):
    items = read(raw_fixture_dir, "subjqa_products")
    kept = [i for i in items if isinstance(i, Record)]
    assert kept[0].text == "The sound is crisp and loud." and kept[0].answers == ("crisp and loud",)
    assert kept[1].answers == ()
    assert kept[2].answers == ("The anti-glare coating",)  # the review's spelling, not the tokenised span
    assert [i.origin for i in items if isinstance(i, Skipped)] == ["electronics/train.csv:5"]


def test_magellan_pairs_and_abt_buy_name_as_title(raw_fixture_dir):
    items = records(raw_fixture_dir, "product_matching_magellan")
    first = items[0]
    assert first.text == "acme usb cable 2m" and first.labels == {"match": ("1",)}
    assert dict(first.attributes)["brand"] == "acme" and dict(first.other.attributes)["title"] == "acme 2 m usb cable"
    abt = [r for r in items if r.subset == "Abt-Buy"][0]
    assert abt.text == "sonic tv 40 inch" and dict(abt.other.attributes)["title"] == "sonic lcd 40"


def test_sgd_user_turns(raw_fixture_dir):
    items = records(raw_fixture_dir, "sgd_intent_subset")
    first = items[0]
    assert spans(first) == [("20 dollars", "amount"), ("Anna", "receiver")]
    assert first.labels["intent"] == ("MakePayment",)
    assert first.labels["intent_set"] == ("MakePayment", "RequestPayment", "NONE")
    assert items[1].context == ("Send 20 dollars to Anna please.", "Done. Anything else?")
    assert items[-1].labels["service"] == ("Trains",)


def test_wands_skips_queries_without_class(raw_fixture_dir):
    items = read(raw_fixture_dir, "wands_queries")
    assert [r.text for r in items if isinstance(r, Record)] == ["velvet sofa", "round mirror", "gray sectional"]
    assert items[2] == Skipped("query.csv:4", "query without a class")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_reader_reads_the_real_dataset(raw_dir, name):
    """The shipped data parses without a malformed record (skips are allowed, and counted by the build)."""
    items = read(raw_dir, name)
    assert sum(isinstance(i, Record) for i in items) > 100
    assert [i for i in items if isinstance(i, Malformed)][:3] == []
