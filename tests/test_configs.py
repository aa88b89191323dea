"""The committed YAMLs: in sync with the generator, right metadata, groups, tags and generation limits."""

import yaml

from ecom_tasks import TASKS_DIR
from ecom_tasks._generate_configs import TASK_NAMES, rendered_files
from ecom_tasks.release import released_tasks
from ecom_tasks.target_lengths import length_stats, quantile
from ecom_tasks.utils import build_docs

OFFICIAL_12 = {
    "EN-Lenovo-NER-NER", "ZH-MEPAVE-NER-attribute_value_extraction", "EN-Lenovo-Condition_Extract-Condition_Extract",
    "ZH-MEPAVE-Condition_Extract-attribute_value_detection", "ZH-Multi_CPR-Extract-product_select_2",
    "EN-Reddit_QA-Extract-Extract_QA", "ZH-OpenBG_Align-Generate-title_generate", "ZH-OpenBG_Align-CLS-item_align",
    "ZH-OpenBG_Align-CLS-title_attribute_matching", "ZH-OpenBG_Align-CLS-item_coarse_classify",
    "ZH-OpenBG_Align-CLS-item_fine_classify", "EN-ABSA-CLS-review_topic_category",
}
UNSEEN_TASK_3 = {"ZH-OpenBG_Align-CLS-item_align", "EN-ABSA-CLS-review_topic_category",
                 "ZH-Multi_CPR-Extract-product_select_2"}


def load(name):
    return yaml.safe_load((TASKS_DIR / name).read_text(encoding="utf-8").replace("!function ", ""))


def test_committed_yamls_match_the_generator(eval_dir):
    for name, content in rendered_files().items():
        assert (TASKS_DIR / name).read_text(encoding="utf-8") == content, f"{name}: run python -m ecom_tasks._generate_configs"


def test_groups_hold_the_official_lists():
    folder_of = {name: folder for folder, name in TASK_NAMES.items()}
    members = {g: {folder_of[t] for t in load(f"{g}.yaml")["task"]} for g in
               ("ecom_unseen", "ecom_unseen_task", "ecom_unseen_dataset")}
    assert members["ecom_unseen"] == OFFICIAL_12
    assert "ZH-Multi_CPR-CLS-query_item_matching" not in members["ecom_unseen"]
    assert members["ecom_unseen_task"] == UNSEEN_TASK_3
    assert members["ecom_unseen_dataset"] == OFFICIAL_12 - UNSEEN_TASK_3
    for group in members:
        aggregates = load(f"{group}.yaml")["aggregate_metric_list"]
        assert {a["metric"] for a in aggregates} == {"micro_f1", "macro_f1", "rouge_l"}
        assert all(a["weight_by_size"] is False and a["aggregation"] == "mean" for a in aggregates)


def test_task_metadata_tags_and_metrics():
    expected_tags = {"CLS": "ecom_cls", "NER": "ecom_ner", "Extract": "ecom_ext", "Condition_Extract": "ecom_ext",
                     "Generate": "ecom_gen"}
    expected_template = {"ecom_cls": "_cls_template_yaml", "ecom_ner": "_ner_template_yaml",
                         "ecom_ext": "_text_template_yaml", "ecom_gen": "_text_template_yaml"}
    assert len(TASK_NAMES) == 13 and set(TASK_NAMES) == set(released_tasks())
    for folder, name in TASK_NAMES.items():
        config = load(f"{name}.yaml")
        assert config["task"] == name and name == name.lower() and name.startswith("ecom_")
        assert config["metadata"]["ecomgpt_task"] == folder
        paradigm_tag = expected_tags[folder.split("-")[2]]
        assert config["tag"] == [paradigm_tag, "ecom_" + folder[:2].lower()]
        assert config["include"] == expected_template[paradigm_tag]
        assert config["generation_kwargs"]["until"] == ["###"] and config["generation_kwargs"]["do_sample"] is False
    assert {m["metric"] for m in load("_text_template_yaml")["metric_list"]} == {"rouge_l", "invalid_rate"}
    assert {m["metric"] for m in load("_cls_template_yaml")["metric_list"]} == {"rouge_l", "micro_f1", "macro_f1",
                                                                                "invalid_rate"}
    for template in ("_text_template_yaml", "_cls_template_yaml", "_ner_template_yaml", "_release_set_template_yaml",
                     "_release_ner_template_yaml"):  # the invalid-answer rate: lower is better, in every task
        (invalid,) = [m for m in load(template)["metric_list"] if m["metric"] == "invalid_rate"]
        assert invalid["higher_is_better"] is False and invalid["aggregation"] == "mean"


def test_max_gen_toks_fits_99_percent_of_gold_targets(eval_dir):
    for folder, name in TASK_NAMES.items():
        limit = load(f"{name}.yaml")["generation_kwargs"]["max_gen_toks"]
        targets = [d["target"] for d in build_docs(folder)]
        fitting = sum(len(t.encode("utf-8")) < limit for t in targets)  # one token to spare
        assert fitting >= 0.99 * len(targets), name
        assert limit == length_stats(targets).max_gen_toks


def test_quantile_is_nearest_rank():
    values = list(range(1, 101))
    assert quantile(values, 0.99) == 99
    assert quantile(values, 0.5) == 50
    assert quantile([5], 0.99) == 5
