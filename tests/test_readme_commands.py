"""Every command of the README's "I want to …" table, read from the README (not copied here) and run as a user
types it: on a fresh clone, after `bash scripts/run.sh`, with the environment activated, no data variable set, and
nothing but small sizes added through documented flags. A README that drifts from the code fails here."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from conftest import borrow_venv

REPO = Path(__file__).resolve().parents[1]
# Small sizes, appended to the command that starts with the key (documented flags only).
SMALL = {
    "ecomgpt-eval": ["--gen_kwargs", "max_gen_toks=16", "--batch_size", "16"],
    "ecomgpt-data build": ["--per-task", "16", "--no-progress"],
    "accelerate launch": ["--max_steps", "2", "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1"],
    "python recipes/sft_upper_bound.py": ["--tasks", "ecom_absa_review_topic", "--profile", "default", "--limit", "4",
                                          "--device", "cpu", "--batch-size", "4", "--max-gen-toks", "8", "--",
                                          "--max_steps", "2", "--per_device_train_batch_size", "2",
                                          "--gradient_accumulation_steps", "1"],
    "ecomgpt demo": ["--steps", "10", "--limit", "4", "--per-task", "16"],
}


def table_rows(readme: str) -> list[tuple[str, list[str]]]:
    """(what, [offline commands]) for each row of the "I want to …" table."""
    section = readme.split("## I want to …", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("I want to …", "---"):
            continue
        rows.append((cells[0], [c.strip("`") for c in cells[1].split("<br>")]))
    return rows


def test_the_table_is_parsed_and_every_row_has_an_offline_command():
    rows = table_rows((REPO / "README.md").read_text(encoding="utf-8"))
    assert len(rows) == 7
    for what, commands in rows:
        assert commands and all(c and "…" not in c and "bigscience/" not in c for c in commands), what
    assert "source .venv/bin/activate" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_table_command_works_as_written_on_a_fresh_clone(eval_dir, tmp_path):
    rows = table_rows((REPO / "README.md").read_text(encoding="utf-8"))
    work = tmp_path / "work"
    clone = work / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    borrow_venv(clone)
    (work / "shared").symlink_to(Path(eval_dir).resolve().parent)  # the team's data beside the checkout
    env = {k: v for k, v in os.environ.items()
           if k not in ("ECOMGPT_EVAL_DIR", "ECOMGPT_RAW_DIR", "ECOMGPT_HELDOUT_DIR", "VIRTUAL_ENV")}
    env.update(ECOMGPT_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")

    def sh(command: str, timeout: int = 900) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
                              timeout=timeout)

    first = sh("bash scripts/run.sh")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert (tmp_path / "cache" / "raw").is_dir() and (clone / "runs/score/tiny-bloom/config.json").is_file()
    for what, commands in rows:
        for command in commands:
            extra = next((v for k, v in SMALL.items() if command.startswith(k)), [])
            result = sh("source .venv/bin/activate && " + command + " " + shlex.join(extra))
            assert result.returncode == 0, (what, command, result.stdout[-2000:], result.stderr[-4000:])
            assert re.search(r"\bwrote\b|saved", result.stdout + result.stderr), (what, command)  # says where
    for made in ("runs/tiny", "mixtures/full/mixture.jsonl", "outputs/tiny-bloom-ecomgpt/config.json",
                 "results/mine/results.md", "study/annotate.html", "heldout/heldout_train.json",
                 "outputs/sft-upper-bound", "ecomgpt-demo/comparison.txt"):
        assert (clone / made).exists(), made
