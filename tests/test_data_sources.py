"""Each raw-source reader on hand-written fixtures: records, spans, labels, skips and malformed input."""

from __future__ import annotations

import json
import shutil
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


def test_registry_has_twenty_seven_sources_and_enough_tasks():
    assert len(SOURCES) == 27
    tasks = [t for s in SOURCES.values() for t in s.tasks]
    assert len({t.name for t in tasks}) == len(tasks) >= 110
    assert {t.paradigm for t in tasks} == {"CLS", "EXT", "GEN", "NER"}
    assert {t.lang for t in tasks} == {"en", "zh"}
    assert {t.cot for t in tasks} == {"original", "golden_cot"}
    assert {t.strategy for t in tasks} == {"original", "simplification", "reversal", "recombination"}


def test_readme_source_table_matches_the_registry():
    readme = (Path(__file__).resolve().parent.parent / "docs" / "data.md").read_text(encoding="utf-8")
    table = readme.split("<!-- source-table", 1)[1].split("<!-- /source-table -->", 1)[0]
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| `")]
    listed = {row[1].strip().strip("`"): (row[2].strip(), int(row[3])) for row in rows}
    assert listed == {name: (source.lang, len(source.tasks)) for name, source in SOURCES.items()}
    assert all(row[5].strip() for row in rows)  # every source has its licence stated


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


def skips(items) -> list[tuple[str, str]]:
    return [(i.origin, i.reason) for i in items if isinstance(i, Skipped)]


def test_counterfactual_quotes_crlf_and_sentences_shared_between_splits(raw_fixture_dir):
    items = read(raw_fixture_dir, "amazon_counterfactual_reviews_en")
    found = {r.text: r for r in items if isinstance(r, Record)}
    # A quoted field with a tab and doubled quotes inside, in a CRLF file, is one sentence.
    assert found['A "must have" for\tcampers, honestly.'].labels == {"counterfactual": ("not counterfactual",)}
    # EN_test's sentence comes again in EN-ext_train: read once, the repeat skipped and counted.
    assert skips(items) == [("data/EN-ext_train.tsv:3", "sentence already read from another split")]
    assert found["I should have bought the bigger size."].id == "data/EN_test.tsv:2"
    # Clue words only for counterfactual sentences, longest phrase first.
    assert found["It would have been perfect if it had a longer cord."].labels["clue"] == ("would have", "if it had")
    assert "clue" not in found["Great battery life."].labels
    assert len(found) == 12 and not any(t.endswith("\r") for t in found)


def test_counterfactual_bad_flag_is_malformed(raw_fixture_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir / "amazon_counterfactual_reviews_en", raw / "amazon_counterfactual_reviews_en")
    with (raw / "amazon_counterfactual_reviews_en/data/EN-ext_test.tsv").open("a", encoding="utf-8", newline="") as f:
        f.write("Too small.\t2\r\n")
    bad = [i for i in read(raw, "amazon_counterfactual_reviews_en") if isinstance(i, Malformed)]
    assert bad == [Malformed("data/EN-ext_test.tsv:4", "is_counterfactual is '2', not 0 or 1")]


def test_product_qa_tab_and_comma_files_attribute_records_and_question_groups(raw_fixture_dir):
    items = read(raw_fixture_dir, "contextual_product_qa_amazon")
    found = [r for r in items if isinstance(r, Record)]
    by_subset = {}
    for r in found:
        by_subset.setdefault(r.subset, []).append(r)
    assert [(r.text, r.target) for r in by_subset["d2t"]] == [
        ("brand: CHANEL", "The brand is Chanel."), ("item dimensions: width 9 inches", "It is 9 inches wide."),
        ("color: green/blue ombre", "It comes in green/blue ombre."), ("batteries included: false", "Batteries are not included.")]
    assert [(r.text.split("\n")[1], r.labels["relevance"]) for r in by_subset["rank"]][:2] == [
        ("Attribute: age range description: little kid", ("relevant",)), ("Attribute: batteries included: false", ("irrelevant",))]
    [group] = by_subset["rank_question"]  # question 367 has one attribute only: no group
    assert group.target == "age range description: little kid" and len(group.candidates) == 3
    het = by_subset["hetpqa"]
    assert het[0].text == 'this art case comes with 40 markers, "64" crayons and 15 pieces of paper.'
    assert [r.labels["source"] for r in het] == [("seller description",), ("community answer",), ("description",)]
    # ePQA is comma-separated with a quoted question; a cqa candidate loses its " Question: ..." tail.
    graded = by_subset["epqa"]
    assert graded[0].text == 'Question: will this fit, model "frs20"?\nCandidate: it should fit.'
    assert [r.labels["grade"][0] for r in graded] == ["answers the question", "irrelevant", "irrelevant", "helpful"]
    assert graded[0].target == "It will fit if you order the correct part." and graded[1].target == ""
    [question] = by_subset["epqa_question"]
    assert question.target == "it should fit." and set(question.candidates) == {
        "it should fit.", "the pan is clear plastic.", "great price."}
    assert skips(items) == [("semiPQA/data-to-text/dev.csv:2", "pair already read from another split"),
                            ("hetPQA/answer_generation/dev.csv:2", "pair already read from another split")]


def test_product_ave_reads_train_and_test_not_the_train_subset(raw_fixture_dir):
    items = read(raw_fixture_dir, "product_ave_oamine_ae110k")
    found = [r for r in items if isinstance(r, Record)]
    assert [(r.subset, r.text) for r in found] == [
        ("oamine", "Diesel Men's Exposure High-Top Sneaker"), ("oamine", "Lipton Green Tea 100 Count"),
        ("ae110k", "YTQHXY Metal Spinner Spoon Fishing Lure 85mm 20g"), ("ae110k", "Polarized Sunglasses Men Driving Eyewear")]
    assert found[1].attributes == (("Brand", "Lipton"), ("Tea variety", "Green"), ("Tea variety", "Green Tea"))
    assert ("Model Number", "n/a") in found[2].attributes and found[2].labels == {"category": ("Lure",)}
    assert skips(items) == [("oa-mine/test.jsonl:1", "title already read from another split")]


def test_product_ave_value_outside_the_title_is_malformed(tmp_path):
    folder = tmp_path / "product_ave_oamine_ae110k"
    for sub in ("oa-mine", "ae-110k"):
        (folder / sub).mkdir(parents=True)
        for split in ("train", "test"):
            (folder / sub / f"{split}.jsonl").write_text("")
    (folder / "oa-mine/test.jsonl").write_text(json.dumps(
        {"input": "Lipton Tea", "category": "Tea", "target_scores": {"Brand": {"Twinings": 1}}}) + "\n")
    [bad] = read(tmp_path, "product_ave_oamine_ae110k")
    assert isinstance(bad, Malformed) and bad.origin == "oa-mine/test.jsonl:1" and "Twinings" in bad.reason


def test_fewsum_quoted_review_ratings_and_clipped_summary_input(raw_fixture_dir):
    from ecomgpt_data.sources.fewsum_amazon_opinion_summaries import clip

    items = read(raw_fixture_dir, "fewsum_amazon_opinion_summaries")
    products = [r for r in items if isinstance(r, Record) and r.subset == "product"]
    reviews = [r for r in items if isinstance(r, Record) and r.subset == "review"]
    assert len(products) == 8 and len(reviews) == 24  # one summary cell is empty
    assert products[0].target == "A pretty pendant." and products[0].labels["item"] == ("B0040",)
    assert "Review 4: It looks perfect; great gift.\n" in products[0].text  # the csv module strips the quotes
    assert [r.labels["rating"][0] for r in reviews[:5]] == ["5 stars", "4 stars", "5 stars", "5 stars", "3 stars"]
    assert reviews[8].labels["category"] == ("electronics",)
    assert clip("one two three four", 12) == "one two…" and clip("short", 12) == "short"


def test_mgshopdial_intents_by_two_annotators_context_and_replies(raw_fixture_dir):
    found = records(raw_fixture_dir, "mgshopdial_shopping_dialogue")
    utterances = [r for r in found if r.subset == "utterance"]
    replies = [r for r in found if r.subset == "reply"]
    assert [r.labels.get("intent") for r in utterances[:4]] == [("greeting",), ("greeting",), ("o_question", "elicit"), None]
    assert utterances[2].text == ("Dialogue:\nWizard: Hello, how I can help?\nClient: Hello! I'm looking for some book\n"
                                  "Utterance (Wizard): Any genre or author in particular?")
    assert [(r.text.splitlines()[-1], r.target) for r in replies] == [
        ("Client: Hello! I'm looking for some book", "Any genre or author in particular?"),
        ("Client: Do you have blue pens?", "Yes, this pack of ten."), ("Wizard: Yes, this pack of ten.", "Anything else?")]


def test_mgshopdial_unknown_participant_is_malformed(raw_fixture_dir, tmp_path):
    folder = tmp_path / "mgshopdial_shopping_dialogue"
    folder.mkdir()
    dialogues = json.loads((raw_fixture_dir / "mgshopdial_shopping_dialogue/MGShopDial.json").read_text(encoding="utf-8"))
    dialogues[1]["utterances"][2]["participant"] = "Assistant"  # the data card's name, not the file's
    (folder / "MGShopDial.json").write_text(json.dumps(dialogues), encoding="utf-8")
    bad = [i for i in read(tmp_path, "mgshopdial_shopping_dialogue") if isinstance(i, Malformed)]
    assert len(bad) == 1 and bad[0].origin == "MGShopDial.json#Officeproducts:1:2:3#3" and "'Assistant'" in bad[0].reason


def test_zhijiang_quadruples_with_blank_offsets(raw_fixture_dir):
    found = records(raw_fixture_dir, "zhijiang_cosmetics_review_opinion")
    assert [r.text for r in found] == ["很好，超值，很好用", "很好，遮暇功能差一些，总体还不错", "**家的粉底,味道有点大", "一般般"]
    second = found[1]
    assert second.target == "_|很好|整体|正面；遮暇功能|差一些|功效|负面；_|还不错|整体|正面"
    assert second.labels["aspect"] == ("遮暇功能",) and second.labels["opinion"] == ("很好", "差一些", "还不错")
    assert second.labels["category"] == ("整体", "功效")
    assert ("遮暇功能差一些", "负面") in second.attributes and ("遮暇功能差一些", "功效") in second.attributes


def test_zhijiang_offset_that_misses_its_term_is_malformed(raw_fixture_dir, tmp_path):
    folder = tmp_path / "zhijiang_cosmetics_review_opinion"
    shutil.copytree(raw_fixture_dir / "zhijiang_cosmetics_review_opinion", folder)
    labels = folder / "Train_labels.csv"
    labels.write_text(labels.read_text(encoding="utf-8").replace("3,味道,7,9", "3,味道,8,10"), encoding="utf-8")
    items = read(tmp_path, "zhijiang_cosmetics_review_opinion")
    assert [i for i in items if isinstance(i, Malformed)] == [
        Malformed("Train_labels.csv:8", "ValueError: '味道' is not at 8:10 of the review")]
    assert sum(isinstance(i, Record) for i in items) == 3


def test_kobe_untokenises_and_pairs_lines(raw_fixture_dir):
    items = read(raw_fixture_dir, "kobe_taodescribe_test")
    found = [r for r in items if isinstance(r, Record)]
    assert found[1].text == "标题：adidas跑鞋\n方面标签：<2>\n用户标签：<c>" and found[1].target == "轻便透气的跑鞋。"
    assert skips(items) == [("test.src.str:3", "pair already read")]


def test_kobe_files_of_different_length_are_malformed(raw_fixture_dir, tmp_path):
    folder = tmp_path / "kobe_taodescribe_test"
    shutil.copytree(raw_fixture_dir / "kobe_taodescribe_test", folder)
    with (folder / "test.src.str").open("a", encoding="utf-8") as handle:
        handle.write("<3> <a> 水 杯\n")
    assert [i for i in read(tmp_path, "kobe_taodescribe_test") if isinstance(i, Malformed)] == [
        Malformed("test.src.str:6", "test.src.str and test.tgt.str differ in length")]


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_reader_reads_the_real_dataset(raw_dir, name):
    """The shipped data parses without a malformed record (skips are allowed, and counted by the build)."""
    from ecomgpt_data import raw

    items = read(raw_dir, name)
    assert sum(isinstance(i, Record) for i in items) > 100
    assert [i for i in items if isinstance(i, Malformed)][:3] == []
    assert len(items) == raw.registry()[name]["items"]  # the progress bar's total


def texts(items) -> list[str]:
    return [i.text for i in items if isinstance(i, Record)]


def test_eprstmt_reads_the_few_all_files_once_and_never_the_subsets(raw_fixture_dir):
    items = read(raw_fixture_dir, "fewclue_eprstmt_review_sentiment")
    assert texts(items) == ["质量很好，物流也快", "做工粗糙，不推荐", "颜色和图片一样", "收到就坏了"]
    assert [i.labels["sentiment"] for i in items if isinstance(i, Record)] == [("正面",), ("负面",), ("正面",), ("负面",)]
    assert [(i.origin, i.reason) for i in items if isinstance(i, Skipped)] == [("dev_few_all.json:1", "review already read")]
    assert "子集文件里的评论不应读取" not in texts(items)  # train_0.json is a subset of train_few_all.json


def test_shopee_pairs_the_two_files_line_by_line_past_the_bom(raw_fixture_dir):
    items = read(raw_fixture_dir, "shopee_product_title_translation_zh_en")
    pairs = [(i.text, i.target) for i in items if isinstance(i, Record)]
    assert pairs == [("＊小徑文化＊ 手機殼 防摔", "Shockproof phone case"), ("藍牙耳機 無線", "Wireless bluetooth earphones")]
    assert [i.reason for i in items if isinstance(i, Skipped)] == ["a title without its translation"]


def test_shopee_files_of_different_length_are_malformed(raw_fixture_dir, tmp_path):
    folder = tmp_path / "shopee_product_title_translation_zh_en"
    shutil.copytree(raw_fixture_dir / folder.name, folder)
    with (folder / "dev_en.csv").open("a", encoding="utf-8") as handle:
        handle.write("one more\n")
    assert [i.reason for i in read(tmp_path, folder.name)][0].startswith("dev_tcn.csv has 3 titles and dev_en.csv 4")


def test_gaiic_splits_each_line_on_its_last_space(raw_fixture_dir):
    items = records(raw_fixture_dir, "gaiic2022_jd_title_ner_sample")
    assert [i.text for i in items] == ["华为 手机", "新款T恤"]  # the space is a character of the title
    assert spans(items[0]) == [("华为", "商品实体"), ("手机", "商品实体")]
    assert spans(items[1]) == [("T恤", "商品实体")]


def test_amazon_qa_recovers_escaped_lines_and_skips_what_nothing_reads(raw_fixture_dir):
    items = read(raw_fixture_dir, "amazon_qa_appliances_mcauley")
    qa = [i for i in items if isinstance(i, Record) and i.subset == "qa"]
    assert [(i.text, i.labels["question_type"]) for i in qa] == [
        ("Does it fit a standard sink?", ("yes/no",)), ("How loud is the motor?", ("open-ended",)),
        ("Is it dishwasher safe?", ("yes/no",))]
    assert qa[2].target == "I don't know, I wash it by hand."  # read by ast.literal_eval
    answers = [i for i in items if isinstance(i, Record) and i.subset == "answer"]
    assert [i.labels["answer_type"] for i in answers] == [("yes",), ("unclear",)]
    assert answers[0].text == "Question: Does it fit a standard sink?\nAnswer: Yes, it fits mine."
    assert [(i.origin, i.reason) for i in items if isinstance(i, Skipped)] == [
        ("qa_Appliances.json:4", "a line neither JSON nor a Python literal reads")]


def test_ppgan_short_titles_from_one_based_positions_once_per_title(raw_fixture_dir):
    items = read(raw_fixture_dir, "ppgan_short_title_zh")
    got = [(i.text, i.target, i.labels["words"]) for i in items if isinstance(i, Record)]
    assert got == [("挂式浴室可爱珊瑚绒擦手巾", "挂式擦手巾", ("挂式", "擦手巾")),
                   ("iPhone 6手机壳硅胶", "iPhone 6手机壳", ("iPhone", "6", "手机壳")),
                   ("宝宝儿童书包双肩包", "儿童书包", ("儿童", "书包"))]
    assert [i.reason for i in items if isinstance(i, Skipped)] == ["long title already read"]


def test_ppgan_positions_that_miss_the_short_title_are_malformed(raw_fixture_dir, tmp_path):
    folder = tmp_path / "ppgan_short_title_zh"
    shutil.copytree(raw_fixture_dir / folder.name, folder)
    (folder / "test.csv").write_text("0,1,1,宝宝 儿童 书包,儿童 书包,1 2,x", encoding="utf-8")
    assert [i for i in read(tmp_path, folder.name) if isinstance(i, Malformed)] == [
        Malformed("test.csv:1", "the short title is not the long title's words at the given positions")]


def test_zol_maps_columns_by_header_across_workbooks(raw_fixture_dir):
    items = read(raw_fixture_dir, "zol_phone_review_helpfulness_zh")
    reviews = [i for i in items if isinstance(i, Record) and i.subset == "review"]
    assert [i.labels for i in reviews] == [
        {"rating": ("5星",), "helpfulness": ("有用",)},
        {"rating": ("2星",)},  # 3 helpful, 3 unhelpful: no helpfulness label
        {"helpfulness": ("无用",)},  # no rating
        {"rating": ("5星",), "helpfulness": ("有用",)}]
    assert reviews[0].text == "优点：屏幕大\n缺点：电池差\n总结：值得买"
    summaries = [(i.text, i.target) for i in items if isinstance(i, Record) and i.subset == "summary"]
    assert summaries == [("优点：屏幕大\n缺点：电池差", "值得买"), ("优点：结实\n缺点：屏幕小", "皮实 如题"),
                         ("优点：耐摔\n缺点：无", "一代神机")]
    assert [i.reason for i in items if isinstance(i, Skipped)] == ["a review without pros, cons or summary"]


def test_jddc_joins_a_senders_messages_into_turns_and_replies_to_context(raw_fixture_dir):
    items = records(raw_fixture_dir, "jddc_dialogue_sample_zh")
    replies = [(i.context, i.target) for i in items if i.subset == "reply" and i.id.startswith("chat")]
    assert replies == [
        (("顾客：你好 我的订单还没到",), "您好，请提供订单号"),
        (("顾客：你好 我的订单还没到", "客服：您好，请提供订单号", "顾客：[订单编号]"), "已为您催促配送")]
    # the agent's opening turn of s2 has no context: no reply record; every message has a speaker record
    speakers = [(i.text, i.labels["speaker"]) for i in items if i.subset == "speaker"]
    assert len(speakers) == 7 and speakers[5] == ("有什么可以帮您", ("客服",))


def test_jddc_dev_set_gives_a_reply_record_per_reference(raw_fixture_dir):
    items = records(raw_fixture_dir, "jddc_dialogue_sample_zh")
    dev = [(i.id, i.context, i.target, i.labels) for i in items if i.id.startswith("dev_")]
    first = ("顾客：我收到商品不知道怎么使用", "客服：您好，很高兴为您服务！",
             # the agent line that is NULL three times is no turn: the customer's turns around it are one
             "顾客：数据线充不进去电 怎么办 好的 地址有变")
    item = {"item": ("dev a_1",)}
    assert dev == [
        # `!@@@!` separates one reply's messages, `<sep>` the three agents' replies; NULL is no reply
        ("dev_answer.txt:2#1", first, "可以改 提供一下地址", item),
        ("dev_answer.txt:2#2", first, "好的，麻烦您提供一下地址", item),
        # the dialogue goes on with the first reply; `#2`: the second agent's (the first did not reply); the session
        # without questions (p_2) gives nothing
        ("dev_answer.txt:3#2", (*first, "客服：可以改 提供一下地址", "顾客：四川省***"), "已为您修改", item)]
    assert all(i.subset == "reply" and i.text == "\n".join(i.context) for i in items if i.id.startswith("dev_"))


@pytest.mark.parametrize("change, named, reason", [
    (("dev_answer.txt", "NULL<sep>已为您修改<sep>NULL\n", ""), "dev_answer.txt:1", "1 answer lines for 2 questions"),
    (("dev_question.txt", "<Q2>四川省***</Q2>", "Q2 四川省"), "dev_question.txt:10", "expected Q:<TAB>, A:<TAB> or <Qn>"),
    (("dev_answer.txt", "<session p_2>\n</session p_2>\n", ""), "dev_answer.txt", "not those of dev_question.txt"),
    (("dev_question.txt", "</session a_1>\n", ""), "dev_question.txt:1", "no closing </session a_1>"),
])
def test_jddc_dev_set_names_what_does_not_line_up(raw_fixture_dir, tmp_path, change, named, reason):
    folder = tmp_path / "jddc_dialogue_sample_zh"
    shutil.copytree(raw_fixture_dir / folder.name, folder)
    file, old, new = change
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    bad = [i for i in read(tmp_path, "jddc_dialogue_sample_zh") if isinstance(i, Malformed)]
    assert len(bad) == 1 and bad[0].origin == named and reason in bad[0].reason, bad


def test_wdc_pave_joins_raw_and_normalised_values_by_offer(raw_fixture_dir):
    items = records(raw_fixture_dir, "wdc_pave_attribute_extraction_en")
    offers = [i for i in items if i.subset == "offer"]
    assert offers[0].text == ("Title: HP Xeon E5335 2.0GHz DL360 G5\" Null\n"
                              "Description: Intel Xeon E5335 processor kit, 8MB cache")
    # the variant written in the text; n/a, and a value not in the text, are not stated
    assert offers[0].attributes == (("Clock Speed", "2.0GHz"), ("Cache", "8MB"), ("Bus Speed", "n/a"),
                                    ("Generation", "G5"))
    assert offers[1].text == "Title: Silver ring" and offers[1].labels == {"category": ("Jewelry",)}
    normalise = [(i.text, i.target) for i in items if i.subset == "normalise"]
    assert normalise == [("Attribute: Cache\nValue: 8MB", "8 Megabytes"), ("Attribute: Generation\nValue: G5", "Generation 5")]
