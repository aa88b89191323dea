"""`ecomgpt-data heldout-train` and `recipes/sft_upper_bound.py`: the shipped formats converted to released
records, the disjointness check, prompt identity with the evaluation task, and a CPU smoke run of the loop."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ecom_tasks import utils
from ecomgpt_data.cli import main as data_main
from ecomgpt_data.heldout import absa_records, mepave_records, reddit_qa_records

REPO = Path(__file__).resolve().parent.parent
ABSA_FOLDER = "EN-ABSA-CLS-review_topic_category"

ABSA_XML = """<?xml version="1.0" encoding="UTF-8"?>
<sentences>
    <sentence id="3121">
        <text>But the staff was so horrible to us.</text>
        <aspectTerms><aspectTerm term="staff" polarity="negative" from="8" to="13"/></aspectTerms>
        <aspectCategories><aspectCategory category="service" polarity="negative"/></aspectCategories>
    </sentence>
    <sentence id="2777">
        <text>The food is uniformly exceptional, with a very capable kitchen.</text>
        <aspectCategories>
            <aspectCategory category="food" polarity="positive"/>
            <aspectCategory category="anecdotes/miscellaneous" polarity="conflict"/>
            <aspectCategory category="food" polarity="positive"/>
        </aspectCategories>
    </sentence>
</sentences>
"""


def write_heldout(root: Path, extra_absa: str = "") -> Path:
    """Hand-written files in the three shipped formats (never copies of the real data)."""
    (root / "ABSA").mkdir(parents=True)
    (root / "ABSA/Restaurants_Train_v2.xml").write_text(ABSA_XML.replace("</sentences>", extra_absa + "</sentences>"),
                                                         encoding="utf-8")
    context = "I bought the blue one. LINKREMOVED It lasted two years before the hinge broke."
    squad = {"data": [{"title": "Filtered_Reddit_Comments", "paragraphs": [{"context": context, "qas": [
        {"id": "q1", "question": "How long did it last?", "answers": [
            {"text": "two years", "answer_start": context.index("two years")}, {"text": "two", "answer_start": 0}]}]}]}],
        "version": "1.0"}
    (root / "Reddit_QA").mkdir()
    (root / "Reddit_QA/reddit_v1.0.train_subset.json").write_text(json.dumps(squad), encoding="utf-8")
    (root / "MEPAVE").mkdir()
    (root / "MEPAVE/jdai.jave.fashion.train.sample").write_text(
        "c1\ts1\tHC圆领拼接连衣裙\tHC<领型>圆领</领型><风格>拼接</风格>连衣裙\nc2\ts2\t纯棉T恤\t纯棉T恤\n", encoding="utf-8")
    (root / "MEPAVE/jdai.jave.fashion.valid.sample").write_text("c3\ts3\t长袖衬衫\t<袖长>长袖</袖长>衬衫\n", encoding="utf-8")
    return root


def test_shipped_formats_convert_to_released_records(tmp_path):
    root = write_heldout(tmp_path / "heldout")
    assert list(absa_records(root / "ABSA")) == [
        ("Restaurants_Train_v2.xml#3121", {"sentences": "But the staff was so horrible to us.",
                                           "labels": {"default": ["Service"]}}),
        ("Restaurants_Train_v2.xml#2777", {"sentences": "The food is uniformly exceptional, with a very capable kitchen.",
                                           "labels": {"default": ["Food", "Anecdotes/Miscellaneous"]}})]
    [(where, record)] = list(reddit_qa_records(root / "Reddit_QA"))
    context = "I bought the blue one. LINKREMOVED It lasted two years before the hinge broke."
    assert record == {"sentences": f"Context: {context}\nQuestion: How long did it last?",
                      "spans": [{"term": "two years", "start": 45, "end": 54}]}
    assert context[45:54] == "two years" and where == "reddit_v1.0.train_subset.json#q1"
    assert [r for _, r in mepave_records(root / "MEPAVE")] == [
        {"sentences": "HC圆领拼接连衣裙", "spans": [{"term": "圆领", "type": "领型", "start": 2, "end": 4},
                                                 {"term": "拼接", "type": "风格", "start": 4, "end": 6}]},
        {"sentences": "纯棉T恤", "spans": []},
        {"sentences": "长袖衬衫", "spans": [{"term": "长袖", "type": "袖长", "start": 0, "end": 2}]}]


def test_a_planted_test_record_is_dropped_and_counted(eval_dir, tmp_path, capsys):
    test_line = (eval_dir / "ABSA/tasks" / ABSA_FOLDER / "test.json").read_text(encoding="utf-8").splitlines()[3]
    sentence = json.loads(test_line)["sentences"]
    planted = (f'<sentence id="9"><text>{sentence.upper()}</text><aspectCategories>'
               '<aspectCategory category="food" polarity="positive"/></aspectCategories></sentence>')
    root = write_heldout(tmp_path / "heldout", planted)
    out = tmp_path / "out"
    assert data_main(["heldout-train", "--heldout-dir", str(root), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ecom_absa_review_topic: 2 instances of 3 ABSA records; 1 dropped as overlapping the test set" in printed
    manifest = json.loads((out / "ecom_absa_review_topic/manifest.json").read_text(encoding="utf-8"))
    report = manifest["tasks"]["ecom_absa_review_topic"]
    assert report["dropped_overlapping_test"] == 1 and report["dropped_examples"][0]["test_text"] == sentence
    rows = [json.loads(line) for line in (out / "ecom_absa_review_topic/mixture.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and not any(sentence.lower() in r["prompt"].lower() for r in rows)
    summary = json.loads((out / "heldout_train.json").read_text(encoding="utf-8"))
    assert set(summary["built"]) == {"ecom_absa_review_topic", "ecom_redditqa_extract_qa", "ecom_mepave_value_extraction",
                                     "ecom_mepave_value_detection"}
    assert summary["without_data"]["ecom_lenovo_ner"] == "Lenovo: no public training split"
    assert len(summary["without_data"]) == 9
    # The folders are mixture folders: the recipes read them as --train_file.
    from recipes.sft import load_mixture
    assert len(load_mixture(str(out / "ecom_absa_review_topic"))) == 2


def test_training_prompt_is_the_evaluation_prompt_of_the_same_record(eval_dir, tmp_path):
    """Train on test record 1 of ABSA (from a copy of the evaluation sets that lacks it, so that the
    disjointness check keeps it): its training instance is exactly lm-eval's doc for that record."""
    copy = tmp_path / "eval"
    for dataset in eval_dir.iterdir():
        if dataset.is_dir():
            (copy / dataset.name).symlink_to(dataset) if dataset.name != "ABSA" else shutil.copytree(dataset, copy / "ABSA")
    test = copy / "ABSA/tasks" / ABSA_FOLDER / "test.json"
    lines = test.read_text(encoding="utf-8").splitlines()
    test.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    train = tmp_path / "train.jsonl"
    train.write_text(lines[0] + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert data_main(["heldout-train", "--jsonl", f"{ABSA_FOLDER}={train}", "--eval-dir", str(copy), "--out", str(out)]) == 0
    [row] = [json.loads(line) for line in (out / "ecom_absa_review_topic/mixture.jsonl").read_text().splitlines()]
    doc = utils.build_docs(ABSA_FOLDER)[0]  # from the real evaluation folder, as lm-eval loads it
    assert row["prompt"] == utils.doc_to_text(doc) and row["response"] == utils.doc_to_target(doc)


def test_bad_jsonl_and_unknown_task_get_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sentences": "a shoe"}\n', encoding="utf-8")
    assert data_main(["heldout-train", "--jsonl", f"ecom_lenovo_ner={bad}", "--out", str(tmp_path / "o")]) == 2
    assert f"{bad}:1: no 'spans' list of objects with a 'term' string" in capsys.readouterr().err
    assert data_main(["heldout-train", "--jsonl", f"ecom_nope={bad}", "--out", str(tmp_path / "o")]) == 2
    assert "not a held-out task" in capsys.readouterr().err
    assert data_main(["heldout-train", "--out", str(tmp_path / "o")]) == 2  # nothing given, nothing fetched
    err = capsys.readouterr().err
    assert "training splits not found: run `ecomgpt-data fetch --heldout`" in err and err.count("\n") == 1


def test_missing_evaluation_sets_name_the_fetch_command_not_a_build_option(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ECOMGPT_EVAL_DIR")
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "empty-cache"))
    good = tmp_path / "good.jsonl"
    good.write_text('{"sentences": "a shoe", "spans": []}\n', encoding="utf-8")
    assert data_main(["heldout-train", "--jsonl", f"ecom_lenovo_ner={good}", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "run `ecomgpt fetch`" in err and "--unsafe-no-guard" not in err  # heldout-train has no such option


@pytest.mark.slow
def test_upper_bound_loop_trains_evaluates_and_gathers_one_run(tiny_bloom, tmp_path):
    root = write_heldout(tmp_path / "heldout")
    data = tmp_path / "data"
    assert data_main(["heldout-train", "--heldout-dir", str(root), "--out", str(data)]) == 0
    out = tmp_path / "upper"
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    result = subprocess.run(
        [sys.executable, str(REPO / "recipes/sft_upper_bound.py"), "--data", str(data), "--out", str(out),
         "--recipe", "bloomz_560m", "--model_name_or_path", str(tiny_bloom), "--tasks", "ecom_absa_review_topic",
         "--profile", "default", "--limit", "4", "--device", "cpu", "--batch-size", "4", "--max-gen-toks", "8",
         "--", "--max_steps", "3", "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1",
         "--max_length", "256"],
        capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((out / "models/ecom_absa_review_topic/training_summary.json").read_text())
    assert summary["global_step"] == 3
    [merged] = list((out / "results/SFT_ours").glob("results_*.json"))
    document = json.loads(merged.read_text())
    assert set(document["results"]) == {"ecom_absa_review_topic"} and document["config"]["limit"] == 4
    assert "micro_f1,none" in document["results"]["ecom_absa_review_topic"]

    from ecomgpt.results import read_run
    run = read_run(out / "results")
    assert run.base_label == "SFT (ours)" and set(run.scores) == {"ecom_absa_review_topic"}
    assert any("ecom_lenovo_ner is missing" in w for w in run.warnings)
    # Trained already: a second run only evaluates.
    again = subprocess.run(result.args, capture_output=True, text=True, env=env, timeout=900)
    assert again.returncode == 0 and "already trained" in again.stdout


@pytest.mark.parametrize("command", [["pseudo-label", "--model", "m", "--dry-run"], ["heldout-train"]])
def test_per_task_zero_is_refused_alike_everywhere(raw_fixture_dir, tmp_path, capsys, command):
    """--per-task is declared once (ecomgpt_core.options) with one check for every command."""
    with pytest.raises(SystemExit) as exit_info:
        data_main([*command, "--out", str(tmp_path / "p"), "--per-task", "0"])
    assert exit_info.value.code == 2
    assert "argument --per-task: must be at least 1, got 0" in capsys.readouterr().err


def test_pseudo_label_per_task_zero_from_python_is_one_line(raw_fixture_dir, tmp_path):
    from ecomgpt_data.errors import BuildError
    from ecomgpt_data.pseudo import pseudo_label

    with pytest.raises(BuildError, match="--per-task 0: give at least 1"):
        pseudo_label(tmp_path / "p", "m", str(raw_fixture_dir), per_task=0, dry_run=True)


def test_a_second_call_adds_to_the_summary_and_data_folders_are_refused(eval_dir, tmp_path, capsys, monkeypatch):
    root = write_heldout(tmp_path / "heldout")
    good = tmp_path / "lenovo.jsonl"
    good.write_text('{"sentences": "a ThinkPad X1 charger", "spans": [{"term": "ThinkPad X1", "type": "PRODUCT"}]}\n',
                    encoding="utf-8")
    out = tmp_path / "data"
    assert data_main(["heldout-train", "--heldout-dir", str(root), "--out", str(out)]) == 0
    first = json.loads((out / "heldout_train.json").read_text(encoding="utf-8"))["built"]
    capsys.readouterr()
    assert data_main(["heldout-train", "--jsonl", f"ecom_lenovo_ner={good}", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert [line for line in said.splitlines() if line.startswith("wrote ")] == [
        f"wrote {out / 'ecom_lenovo_ner'}: 1 instances of 1 lenovo.jsonl records; 0 dropped as overlapping the test set"]
    assert f"kept {len(first)} task folder(s)" in said
    second = json.loads((out / "heldout_train.json").read_text(encoding="utf-8"))["built"]
    assert set(second) == set(first) | {"ecom_lenovo_ner"}
    monkeypatch.chdir(tmp_path)
    for bad, what in ((eval_dir, "the evaluation folder"), (root / "ABSA", "the held-out training folder"),
                      (Path("."), "the working directory"), (tmp_path.parent, "contains")):
        assert data_main(["heldout-train", "--heldout-dir", str(root), "--out", str(bad)]) == 2, bad
        err = capsys.readouterr().err
        assert what in err and "choose a new folder" in err and err.count("\n") == 1
