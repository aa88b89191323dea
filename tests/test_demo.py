"""`ecomgpt demo` end to end at a reduced size: mixture, tiny model, accelerate-launched fine-tuning, two
lm-eval runs, tables and plots."""

from __future__ import annotations

import pytest

import csv
import json
import subprocess
import sys
from pathlib import Path


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline(raw_dir, eval_dir, tmp_path):
    out = tmp_path / "demo"
    ecomgpt = Path(sys.executable).parent / "ecomgpt"
    result = subprocess.run([str(ecomgpt), "demo", "--out", str(out), "--raw-dir", str(raw_dir),
                             "--source", "wands_queries", "--source", "advertisegen_dev", "--per-task", "8",
                             "--steps", "6", "--limit", "1", "--max-gen-toks", "8"],
                            capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "SMOKE RUN" in result.stdout and f"Outputs in {out}" in result.stdout

    manifest = json.loads((out / "mixture" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["config"]["sources"]) == {"wands_queries", "advertisegen_dev"}
    summary = json.loads((out / "model-trained" / "training_summary.json").read_text(encoding="utf-8"))
    assert summary["global_step"] == 6 and summary["instances"] == manifest["totals"]["selected"]
    for name in ("untrained", "trained"):
        [results] = list((out / "eval" / name).rglob("results_*.json"))
        assert len(json.loads(results.read_text())["results"]) == 13  # 12 tasks + the group

    with (out / "results" / "table4_unseen.csv").open(encoding="utf-8", newline="") as handle:
        models = [row["model"] for row in csv.DictReader(handle) if row["source"] == "this run"]
    assert models == ["tiny BLOOM, untrained (limit 1) [default v1.1]", "tiny BLOOM, 6 steps (limit 1) [default v1.1]"]
    assert (out / "results" / "table4_bars.png").stat().st_size > 5000
    assert "tiny BLOOM, 6 steps" in (out / "results" / "results.md").read_text(encoding="utf-8")
    untrained = (out / "model-untrained" / "model.safetensors").read_bytes()
    assert untrained != (out / "model-trained" / "model.safetensors").read_bytes()

    again = subprocess.run([str(ecomgpt), "demo", "--out", str(out)], capture_output=True, text=True)
    assert again.returncode != 0 and "exists; pass --overwrite" in again.stderr
