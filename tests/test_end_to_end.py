"""A tiny local BLOOM through the real lm-eval CLI (and `ecomgpt-eval`): every task reports its metrics."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ecom_tasks.release import TASK_NAMES, UNSEEN_TASKS, released_tasks

CLS_NER_METRICS = {"rouge_l,none", "micro_f1,none", "macro_f1,none"}


def console_script(name):
    """The console script installed beside this interpreter (the venv's bin/ need not be on PATH)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else shutil.which(name)


def run_cli(command, tmp_path, name):
    out = tmp_path / name
    result = subprocess.run(command + ["--output_path", str(out)], capture_output=True, text=True,
                            env=os.environ.copy(), timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]
    files = list(out.rglob("results_*.json"))
    assert len(files) == 1
    return json.loads(files[0].read_text(encoding="utf-8"))


@pytest.mark.slow
def test_lm_eval_cli_runs_ecom_unseen_on_a_tiny_bloom(tiny_bloom, tmp_path):
    lm_eval = console_script("lm_eval")
    assert lm_eval, "lm_eval console script not installed"
    from ecom_tasks import TASKS_DIR

    results = run_cli([lm_eval, "--include_path", str(TASKS_DIR), "--tasks", "ecom_unseen", "--model", "hf",
                       "--model_args", f"pretrained={tiny_bloom},dtype=float32", "--device", "cpu",
                       "--batch_size", "4", "--limit", "2"], tmp_path, "lm_eval")
    official = {TASK_NAMES[f]: t for f, t in released_tasks().items() if t.official}
    assert set(results["results"]) == set(official) | {"ecom_unseen"}
    for name, task in official.items():
        metrics = {k for k in results["results"][name] if k.endswith(",none") and "_stderr" not in k}
        expected = (CLS_NER_METRICS if task.paradigm in ("cls", "ner") else {"rouge_l,none"}) | {"invalid_rate,none"}
        assert metrics == expected, name
        assert all(0.0 <= results["results"][name][m] <= 100.0 for m in metrics)
        assert results["n-samples"][name]["effective"] == 2
    group = results["groups"]["ecom_unseen"]
    # the group value is the unweighted mean over the member tasks that report the metric
    rouge = [results["results"][n]["rouge_l,none"] for n in official]
    assert abs(group["rouge_l,none"] - sum(rouge) / len(rouge)) < 1e-9
    micro = [results["results"][n]["micro_f1,none"] for n, t in official.items() if t.paradigm in ("cls", "ner")]
    assert len(micro) == 7
    assert abs(group["micro_f1,none"] - sum(micro) / len(micro)) < 1e-9
    assert results["configs"]["ecom_lenovo_ner"]["metadata"]["ecomgpt_task"] == "EN-Lenovo-NER-NER"


@pytest.mark.slow
def test_ecomgpt_eval_is_lm_eval_with_the_plugin(tiny_bloom, tmp_path):
    ecomgpt_eval = console_script("ecomgpt-eval")
    assert ecomgpt_eval, "ecomgpt-eval console script not installed"
    results = run_cli([ecomgpt_eval, "--tasks", "ecom_unseen_task", "--model", "hf", "--model_args",
                       f"pretrained={tiny_bloom},dtype=float32", "--device", "cpu", "--limit", "1",
                       "--gen_kwargs", "max_gen_toks=8"], tmp_path, "ecomgpt_eval")
    assert set(results["results"]) == {TASK_NAMES[f] for f in UNSEEN_TASKS} | {"ecom_unseen_task"}
    assert "rouge_l,none" in results["groups"]["ecom_unseen_task"]
    # --gen_kwargs overrides the task's max_gen_toks
    assert results["configs"]["ecom_absa_review_topic"]["generation_kwargs"]["max_gen_toks"] == 8
