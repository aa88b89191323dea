"""`scripts/run.sh` on a fresh clone: it sets up what is missing (here: nothing, the clone borrows this
checkout's installed .venv) and ends in the printed Table-4 summary with no error."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import borrow_venv

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_run_script_on_a_fresh_clone_prints_the_table(eval_dir, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    borrow_venv(clone)
    env = {**os.environ, "ECOMGPT_EVAL_DIR": str(eval_dir), "OUT": str(tmp_path / "score"), "LIMIT": "2",
           "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(["bash", "scripts/run.sh"], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "setting up .venv" not in result.stderr  # the borrowed environment was recognised as current
    out = result.stdout
    assert "### Table 4 layout" in out and "| tiny random BLOOM (smoke run) (limit 2) [default v1.1] | this run" in out
    assert out.rstrip().endswith("(results.md, tables, plots)")
    assert "error" not in result.stderr.lower().replace("stderr", "")
    assert (tmp_path / "score" / "results" / "table4_unseen.csv").is_file()


def test_a_tiny_model_cut_off_while_written_is_made_again(eval_dir, tmp_path, capsys):
    """A run killed while saving the tiny model used to leave a folder with a config.json that every later run
    loaded and failed on; now the model is published whole, and a folder without its mark is made again."""
    from transformers import AutoModelForCausalLM

    from ecom_tasks.data import EvalRelease
    from ecomgpt.score import TINY_COMPLETE, tiny_model

    out = tmp_path / "tiny-bloom"
    out.mkdir()
    (out / "config.json").write_text('{"model_type": "bl', encoding="utf-8")  # what a killed save leaves
    assert tiny_model(out, EvalRelease(eval_dir)) == out
    assert "incomplete" in capsys.readouterr().out and (out / TINY_COMPLETE).is_file()
    AutoModelForCausalLM.from_pretrained(out)
    made = (out / "model.safetensors").stat().st_mtime_ns
    tiny_model(out, EvalRelease(eval_dir))  # complete: reused as it is
    assert (out / "model.safetensors").stat().st_mtime_ns == made
    assert not list(tmp_path.glob(".tiny-bloom.partial-*"))


@pytest.mark.parametrize("where", ["a file in the way", "/proc"])
def test_an_output_folder_that_cannot_be_written_is_one_line(tmp_path, capsys, where):
    from ecomgpt.cli import main

    if where == "/proc":
        out = Path("/proc/ecomgpt-score")
    else:
        (tmp_path / "runs").write_text("a file, not a folder", encoding="utf-8")
        out = tmp_path / "runs" / "score"
    assert main(["score", "--out", str(out), "--no-fetch"]) == 2
    err = capsys.readouterr().err
    assert "cannot write there" in err and err.count("\n") == 1


def test_a_damaged_environment_is_set_up_again(tmp_path):
    """ensure_env.sh (sourced by run.sh and test.sh) reinstalls when .venv cannot import the project; here with a
    stand-in python that fails the import and a stand-in install.sh, so no package is installed."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(REPO / "scripts/ensure_env.sh", tmp_path / "scripts/ensure_env.sh")
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "scripts/install.sh").write_text("echo INSTALL RAN\n", encoding="utf-8")
    (tmp_path / ".venv/bin").mkdir(parents=True)
    python = tmp_path / ".venv/bin/python"
    digest = subprocess.run(["sha256sum", "pyproject.toml"], cwd=tmp_path, capture_output=True, text=True)
    (tmp_path / f".venv/.ecomgpt-installed-{digest.stdout[:16]}").touch()

    def ensure(importable: bool) -> subprocess.CompletedProcess:
        python.write_text("#!/bin/sh\n" + ("exit 0\n" if importable else
                          "echo \"ModuleNotFoundError: No module named 'jieba'\" >&2\nexit 1\n"), encoding="utf-8")
        python.chmod(0o755)
        return subprocess.run(["bash", "-c", "source scripts/ensure_env.sh"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)

    damaged = ensure(importable=False)
    assert "INSTALL RAN" in damaged.stdout and "No module named 'jieba'" in damaged.stderr
    assert "INSTALL RAN" not in ensure(importable=True).stdout  # a sound environment is left alone
