"""Every script under benchmarks/ runs, on tiny inputs, and prints its figures and ratios: a benchmark that no
test runs rots unseen (`gpu_figures.py` has its own dry run in test_gpu_figures.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, env: dict | None = None) -> str:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args], cwd=REPO, text=True,
                            capture_output=True, timeout=600, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_eval_overhead_prints_both_times_and_the_ratio():
    out = run("eval_overhead.py", "--repeats", "1", "--limit", "3")
    assert "records scored per run: 36 (12 tasks)" in out
    assert re.search(r"ratio suite / exact_match\s+:\s+\d+\.\d\dx fastest, \d+\.\d\dx median", out)
    assert "micro_f1 100.00, macro_f1 100.00, rouge_l 100.00" in out  # gold answers score full marks


@pytest.mark.slow
def test_mixture_build_prints_each_build_and_the_ratios(raw_fixture_dir):
    out = run("mixture_build.py", "--replicate", "2", "--small", "2", env={"ECOMGPT_RAW_DIR": str(raw_fixture_dir)})
    for label in ("full, no cache", "full, writing logs", "small, replayed", "small, no cache", "x2, no cache",
                  "full, 2 workers"):
        assert label in out
    assert re.search(r"ratio 1 process / 2 workers \(full, no cache\): time \d+\.\d\dx faster; parent peak \d+ MB "
                     r"\+ largest worker \d+ MB", out)
    assert re.search(r"ratio x2 / x1: records 2\.00, time \d+\.\d\d, peak memory \d+\.\d\d", out)
    assert "same mixture: True" in out and "same mixture: False" not in out


@pytest.mark.slow
def test_mixture_build_against_a_revision_alternates_and_prints_the_ratios(raw_fixture_dir):
    """`--against REV` builds REV's checkout (a git worktree, removed afterwards) and this one in turns."""
    out = run("mixture_build.py", "--against", "HEAD", "--repeats", "2", env={"ECOMGPT_RAW_DIR": str(raw_fixture_dir)})
    pairs = re.findall(r"^pair (\d) of 2: HEAD +\d+\.\d s \(CPU +\d+\.\d s, (\w{8})\), this +\d+\.\d s "
                       r"\(CPU +\d+\.\d s, (\w{8})\): ratio \d+\.\d\d", out, re.M)
    assert [p[0] for p in pairs] == ["1", "2"] and len({p[1] for p in pairs}) == 1 and len({p[2] for p in pairs}) == 1
    assert re.search(r"this / HEAD: median pair ratio \d+\.\d\d \(CPU \d+\.\d\d\), fastest / fastest \d+\.\d\d", out)
    worktrees = subprocess.run(["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True).stdout
    assert "baseline" not in worktrees


def test_mixture_build_against_an_unknown_revision_says_so_in_one_line(raw_fixture_dir):
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "mixture_build.py"), "--against", "no-such-rev"],
                            cwd=REPO, text=True, capture_output=True, timeout=120,
                            env={**os.environ, "ECOMGPT_RAW_DIR": str(raw_fixture_dir)})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "mixture_build.py: error: --against no-such-rev: git could not check it out (fatal: invalid reference: "
        "no-such-rev); give a commit of this repository"]


@pytest.mark.slow
def test_train_padding_prints_the_fractions_and_the_throughput_ratio(raw_fixture_dir):
    out = run("train_padding.py", "--per-task", "8", "--throughput-instances", "16",
              env={"ECOMGPT_RAW_DIR": str(raw_fixture_dir)})
    fractions = [float(x) for x in re.findall(r"^\s+\S.*?\s(0\.\d{3}|1\.000)$", out, re.M)]
    assert len(fractions) == 3 and all(0 < f <= 1 for f in fractions)
    assert re.search(r"recipe \(length-grouped\)\s+[\d,]+\s+ratio \d+\.\d\d", out)
