"""All 13 released sets load through lm-eval, and bad data gives errors that say where and what to do."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from ecom_tasks import TASKS_DIR
from ecom_tasks.data import EvalDataError, read_records
from ecom_tasks.release import released_tasks
from ecom_tasks.utils import load_docs

FOLDER = "EN-ABSA-CLS-review_topic_category"
TEST_JSON = "ABSA/tasks/EN-ABSA-CLS-review_topic_category/test.json"


def task_names():
    import yaml

    names = {}
    for path in TASKS_DIR.glob("ecom_*.yaml"):
        text = path.read_text(encoding="utf-8")
        if "\ntask: " in text and "group:" not in text and "profile: release" not in text:
            config = yaml.safe_load(text)
            names[config["metadata"]["ecomgpt_task"]] = config["task"]
    return names


@pytest.mark.slow
def test_all_13_tasks_build_in_lm_eval_with_500_docs_in_file_order(eval_dir):
    from lm_eval.tasks import TaskManager

    names = task_names()
    assert set(names) == set(released_tasks())
    tasks = TaskManager(include_path=str(TASKS_DIR)).load(list(names.values()))["tasks"]
    assert set(tasks) == set(names.values())
    for folder, name in names.items():
        task = tasks[name]
        assert task.config.metadata["ecomgpt_task"] == folder
        docs = list(task.eval_docs)
        assert len(docs) == 500, name
        lines = (eval_dir / released_tasks()[folder].relative_dir / "test.json").read_text(encoding="utf-8").splitlines()
        assert [d["doc_id"] for d in docs] == list(range(500))
        for i in (0, 1, 250, 499):
            assert docs[i]["sentences"] == json.loads(lines[i])["sentences"], (name, i)
        assert task.doc_to_text(docs[0]).startswith("Below is an instruction that describes the ")


@pytest.fixture
def broken_copy(eval_dir, tmp_path, monkeypatch):
    """A writable copy of the evaluation folder, selected through ECOMGPT_EVAL_DIR."""
    copy = tmp_path / "eval"
    shutil.copytree(eval_dir, copy)
    monkeypatch.setenv("ECOMGPT_EVAL_DIR", str(copy))
    return copy


def replace_line(path, number, text):
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[number - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")


def test_unset_variable_without_fetched_copy_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.delenv("ECOMGPT_EVAL_DIR")
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(EvalDataError, match=r"evaluation sets .* not found: run `ecomgpt fetch` .*ECOMGPT_EVAL_DIR"):
        read_records(FOLDER)


def test_variable_pointing_nowhere_names_it(monkeypatch, tmp_path):
    monkeypatch.setenv("ECOMGPT_EVAL_DIR", str(tmp_path / "nope"))
    with pytest.raises(EvalDataError, match=r"ECOMGPT_EVAL_DIR=.*nope is not a folder"):
        read_records(FOLDER)


def test_missing_file_is_named(broken_copy):
    (broken_copy / TEST_JSON).unlink()
    with pytest.raises(EvalDataError, match=r"test\.json is missing"):
        read_records(FOLDER)


def test_missing_task_folder_is_named(broken_copy):
    shutil.rmtree(broken_copy / "ABSA")
    with pytest.raises(EvalDataError, match=r"has no ABSA/tasks/EN-ABSA-CLS-review_topic_category"):
        read_records(FOLDER)


def test_malformed_line_names_file_and_line(broken_copy):
    replace_line(broken_copy / TEST_JSON, 7, '{"sentences": "cut off')
    with pytest.raises(EvalDataError, match=r"test\.json:7: malformed JSON"):
        read_records(FOLDER)


def test_empty_line_inside_the_file_is_an_error(broken_copy):
    replace_line(broken_copy / TEST_JSON, 3, "")
    with pytest.raises(EvalDataError, match=r"test\.json:3: empty line"):
        read_records(FOLDER)


def test_record_without_gold_labels_is_an_error(broken_copy):
    replace_line(broken_copy / TEST_JSON, 12, json.dumps({"sentences": "x", "labels": {"other": ["Food"]}}))
    with pytest.raises(EvalDataError, match=r"test\.json:12: no non-empty 'labels.default'"):
        read_records(FOLDER)


def test_lm_eval_hook_exits_with_the_message_only(broken_copy):
    replace_line(broken_copy / TEST_JSON, 7, "not json")
    with pytest.raises(SystemExit, match=r"test\.json:7: malformed JSON"):
        load_docs(FOLDER)


def test_unknown_released_folder_is_named():
    with pytest.raises(SystemExit, match=r"'EN-Nope-CLS-x' is not a released EcomGPT evaluation folder"):
        load_docs("EN-Nope-CLS-x")


@pytest.mark.slow
def test_lm_eval_cli_shows_no_traceback_for_bad_data(broken_copy):
    replace_line(broken_copy / TEST_JSON, 7, "not json")
    result = subprocess.run(
        [sys.executable, "-m", "lm_eval", "run", "--include_path", str(TASKS_DIR), "--tasks", "ecom_absa_review_topic",
         "--model", "dummy", "--limit", "1"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=300,
    )
    assert result.returncode != 0
    assert "test.json:7: malformed JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_utf8_names_file_and_line(broken_copy):
    path = broken_copy / TEST_JSON
    data = path.read_bytes().split(b"\n")
    data[8] = data[8][:10] + b"\xff\xfe" + data[8][10:]
    path.write_bytes(b"\n".join(data))
    with pytest.raises(EvalDataError, match=r"test\.json:9: not valid UTF-8 \(byte 0xff\)"):
        read_records(FOLDER)
    meta = broken_copy / "ABSA/tasks/EN-ABSA-CLS-review_topic_category/meta-info.json"
    meta.write_bytes(meta.read_bytes().replace(b'"defi"', b'"d\xe9fi"', 1))
    with pytest.raises(SystemExit, match=r"meta-info\.json:\d+: not valid UTF-8"):
        load_docs(FOLDER)


def test_gold_label_outside_the_label_list_is_counted_and_named(broken_copy, caplog):
    from ecom_tasks.utils import build_docs

    path = broken_copy / TEST_JSON
    lines = path.read_text(encoding="utf-8").split("\n")
    for number in (3, 7):
        record = json.loads(lines[number - 1])
        record["labels"]["default"] = ["Not A Topic"]
        lines[number - 1] = json.dumps(record)
    path.write_text("\n".join(lines), encoding="utf-8")
    with caplog.at_level("WARNING", logger="ecom_tasks"):
        docs = build_docs(FOLDER)
    assert len(docs) == 500
    warning = [r.getMessage() for r in caplog.records if "not in the task's label list" in r.getMessage()]
    assert len(warning) == 1
    assert "2 gold label(s)" in warning[0] and "3: 'Not A Topic'" in warning[0] and "7: 'Not A Topic'" in warning[0]
    assert "Not A Topic" not in docs[2]["prompt"]  # which is why it is reported


def test_lm_evals_custom_dataset_hint_is_silenced_for_our_tasks_only():
    import logging

    import ecom_tasks.utils  # noqa: F401 - installs the filter, as lm-eval's loading of our YAMLs does

    task_logger = logging.getLogger("lm_eval.api.task")

    def passes(message: str) -> bool:
        record = task_logger.makeRecord(task_logger.name, logging.WARNING, __file__, 1, message, (), None)
        return all(f.filter(record) for f in task_logger.filters)

    assert not passes("ecom_lenovo_ner: Custom kwargs can be passed to `--metadata` in console (as json string)")
    assert passes("hellaswag: Custom kwargs can be passed to `--metadata` in console (as json string)")
    assert passes("ecom_lenovo_ner: something else")
