"""`ecomgpt demo` end to end at a reduced size: mixture, tiny model, accelerate-launched fine-tuning, two
lm-eval runs, tables and plots."""

from __future__ import annotations

import pytest

import csv
import json
import subprocess
import sys
from pathlib import Path

from ecomgpt.demo import DEMO_SOURCES, DEMO_TASKS


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline_and_training_shows(raw_dir, eval_dir, tmp_path):
    out = tmp_path / "demo"
    ecomgpt = Path(sys.executable).parent / "ecomgpt"
    result = subprocess.run([str(ecomgpt), "demo", "--out", str(out), "--raw-dir", str(raw_dir)],
                            capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "SMOKE RUN" in result.stdout and f"Outputs in {out}" in result.stdout

    manifest = json.loads((out / "mixture" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["config"]["sources"]) == set(DEMO_SOURCES)
    assert {task["paradigm"] for task in manifest["tasks"].values()} == {"CLS"}
    summary = json.loads((out / "model-trained" / "training_summary.json").read_text(encoding="utf-8"))
    assert summary["global_step"] == 150 and summary["instances"] == manifest["totals"]["selected"]
    losses = [entry["loss"] for entry in summary["log_history"] if "loss" in entry]
    assert len(losses) == 30 and min(losses[-5:]) < losses[0]
    assert (out / "training_loss.png").stat().st_size > 5000
    scores = {}
    for name in ("untrained", "trained"):
        [results] = list((out / "eval" / name).rglob("results_*.json"))
        found = json.loads(results.read_text())["results"]
        assert set(found) == set(DEMO_TASKS)
        scores[name] = {task: found[task]["micro_f1,none"] for task in DEMO_TASKS}
    # The point of the demo's configuration: fine-tuning measurably changes the scores.
    better = [task for task in DEMO_TASKS if scores["trained"][task] > scores["untrained"][task]]
    assert better, scores
    comparison = (out / "comparison.txt").read_text(encoding="utf-8")
    assert f"scores higher on {len(better)} of 4 tasks" in comparison

    with (out / "results" / "table4_unseen.csv").open(encoding="utf-8", newline="") as handle:
        models = [row["model"] for row in csv.DictReader(handle) if row["source"] == "this run"]
    assert models == ["tiny BLOOM, untrained (limit 24) [default v1.1]", "tiny BLOOM, 150 steps (limit 24) [default v1.1]"]
    assert (out / "results" / "table4_bars.png").stat().st_size > 5000
    untrained = (out / "model-untrained" / "model.safetensors").read_bytes()
    assert untrained != (out / "model-trained" / "model.safetensors").read_bytes()

    again = subprocess.run([str(ecomgpt), "demo", "--out", str(out)], capture_output=True, text=True)
    assert again.returncode != 0 and "exists; pass --overwrite" in again.stderr


def test_overwrite_replaces_only_a_demo_folder(tmp_path, capsys, monkeypatch):
    from ecomgpt.cli import main

    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.tex").write_text("keep me", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for out in (str(precious), "."):
        assert main(["demo", "--out", out, "--overwrite"]) == 2
        assert "is not a folder `ecomgpt demo` wrote" in capsys.readouterr().err
    assert (precious / "thesis.tex").read_text(encoding="utf-8") == "keep me"
