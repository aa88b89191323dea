"""The GPU-figures script (benchmarks/gpu_figures.py) on CPU: its dry run goes through every phase with tiny shapes,
so that a session with a device can spend its few minutes measuring, not debugging the script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ecomgpt_data.config import MixtureConfig
from ecomgpt_data.mixture import build

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_figures.py"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=600,
                          check=False)


@pytest.mark.parametrize("runs", ["1b7:recipe:5", "1b7:nope:4", "9b:recipe:4", "1b7:recipe"])
def test_a_run_that_is_not_shape_variant_batch_is_refused_in_one_line(runs, tmp_path):
    done = run("--data", str(tmp_path), "--runs", runs, cwd=tmp_path)
    assert done.returncode == 2
    assert f"{runs!r}: expected SHAPE:VARIANT:BATCH" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without a GPU")
def test_without_a_gpu_only_the_dry_run_runs(tmp_path):
    data = tmp_path / "data"
    (data / "tokenizer").mkdir(parents=True)
    (data / "mixture.jsonl").write_text("", encoding="utf-8")
    done = run("--data", str(data), "--phases", "train", cwd=tmp_path)
    assert done.returncode == 1 and "no CUDA GPU here: run with --tiny" in done.stderr
    assert not (tmp_path / "gpu_figures.json").exists()


@pytest.mark.slow
def test_the_dry_run_measures_every_phase(raw_fixture_dir, eval_dir, tmp_path):
    mixture = tmp_path / "mix"
    build(MixtureConfig(raw_dir=str(raw_fixture_dir), per_task=2).validate(), mixture, progress=False)
    instances = len((mixture / "mixture.jsonl").read_text(encoding="utf-8").splitlines())
    prepared = run("--prepare", str(tmp_path / "gpu"), "--mixture", str(mixture), "--instances", "120", cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    assert f"mixture.jsonl ({min(120, instances)} of {instances} instances)" in prepared.stdout
    assert sorted(p.name for p in (tmp_path / "gpu" / "eval").iterdir()) == sorted(p.name for p in eval_dir.iterdir())

    out = tmp_path / "figures.json"
    done = run("--data", str(tmp_path / "gpu"), "--tiny", "--warmup", "1", "--steps", "2", "--out", str(out),
               "--runs", "560m:recipe:32", "560m:before:8", "560m:pad64:32", "--phases", "train", "generate", "probe",
               "fsdp", "--probe-batches", "2", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.rstrip().endswith(f"wrote {out}")
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["errors"] == [] and figures["tiny"] is True
    recipe, before = figures["training"]["560m"]["recipe 32x1"], figures["training"]["560m"]["before 8x4"]
    for measured, batch in ((recipe, 32), (before, 8)):
        # one warm-up and two timed optimizer steps of 32 sequences each (the 120 instances hold three): 64
        # sequences timed, in 64 / batch batches
        assert measured["per_device_batch"] == batch and measured["accumulation"] == 32 // batch
        assert measured["timed_batches"] == 64 // batch and measured["measured_steps"] == 2
        assert measured["tokens_per_second"] == pytest.approx(measured["non_pad_tokens"] / measured["seconds"])
        assert 0 < measured["useful_token_fraction"] <= 1 and 0 < measured["target_token_fraction"] < 1
    assert recipe["response_only_logits"] and recipe["fused_gelu"] and recipe["optim"] == "adamw_torch"
    assert not before["response_only_logits"] and not before["fused_gelu"]
    padded = figures["training"]["560m"]["pad64 32x1"]
    # the same batches as the recipe's (same seed, same lengths), padded further
    assert padded["pad_to_multiple_of"] == 64 and padded["non_pad_tokens"] == recipe["non_pad_tokens"]
    assert padded["useful_token_fraction"] < recipe["useful_token_fraction"]
    generation = figures["generation"]["hf"]
    assert generation["prompts"] == 12 * 2 and generation["generated_tokens"] > 0
    assert figures["probe"]["560m"]["largest_fitting_batch"] == 4
    # FSDP under the shipped config needs GPUs: on this CPU the recipe refuses instead of training without it
    # (on the GPU machine the same phase records the distribution that ran, the loss and the reload)
    fsdp = figures["fsdp"]["560m"]
    assert fsdp["returncode"] != 0 and "distributed" not in fsdp
    assert any("fsdp (version 1) was asked for but none runs: accelerate runs FSDP and DeepSpeed only on GPUs" in line
               for line in fsdp["said"]), fsdp
