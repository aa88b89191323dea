"""Beyond one process: what a launch asked for against what runs (and the refusal to train with less), FSDP with
the shipped settings over gloo, and two machines simulated on localhost."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import SMALL, subset, weights

from recipes import distribution
from recipes.distribution import DowngradeError, Layout

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "recipes" / "accelerate_configs"
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "-q"]


@pytest.fixture
def no_launcher_env(monkeypatch):
    for name in ("ACCELERATE_USE_FSDP", "ACCELERATE_USE_DEEPSPEED", "WORLD_SIZE", "FSDP_VERSION"):
        monkeypatch.delenv(name, raising=False)


def test_what_the_launch_asked_for_is_read_from_the_launcher_command_line(no_launcher_env):
    fsdp = distribution.asked(["--config_file", str(CONFIGS / "fsdp.yaml"), "--num_processes", "2", "train.py"])
    assert (fsdp.sharding, fsdp.processes, fsdp.machines, fsdp.cpu_launch) == ("fsdp (version 1)", 2, 1, False)
    cpu = distribution.asked(["--cpu", "--config_file", str(CONFIGS / "fsdp.yaml"), "train.py"])
    assert (cpu.sharding, cpu.processes, cpu.cpu_launch) == ("fsdp (version 1)", 4, True)  # the config's 4
    zero3 = distribution.asked(["--config_file", str(CONFIGS / "zero3.yaml"), "train.py"])
    assert zero3.sharding == "deepspeed (ZeRO stage 3)"
    nodes = distribution.asked(["--multi_gpu", "--num_machines", "2", "--num_processes", "4", "train.py"])
    assert (nodes.sharding, nodes.processes, nodes.machines) == ("ddp", 4, 2)
    assert distribution.asked([]) is None  # a plain `python recipes/…` run asks for nothing


def test_launcher_env_counts_when_no_command_line_is_readable(no_launcher_env, monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert distribution.asked([]) == Layout("fsdp (version 1)", 2, 1)


def test_less_than_asked_is_refused_with_the_reason_and_the_fix():
    live_cpu_ddp = Layout("ddp", 2, 1, "gloo")
    with pytest.raises(DowngradeError, match=r"fsdp \(version 1\) was asked for but ddp runs: accelerate runs FSDP "
                                             r"and DeepSpeed only on GPUs.*--allow_downgrade"):
        distribution.refuse_downgrade(Layout("fsdp (version 1)", 2, 1), live_cpu_ddp, allowed=False)
    with pytest.raises(DowngradeError, match=r"2 processes were asked for but 1 run\(s\): `accelerate launch --cpu` "
                                             r"always starts a single process.*--multi_gpu --num_processes N"):
        distribution.refuse_downgrade(Layout("ddp", 2, 1, cpu_launch=True), Layout("none", 1, 1), allowed=False)
    with pytest.raises(DowngradeError, match=r"2 machines were asked for but 1 take\(s\) part"):
        distribution.refuse_downgrade(Layout("ddp", 2, 2), Layout("ddp", 2, 1, "gloo"), allowed=False)
    gap = distribution.refuse_downgrade(Layout("fsdp (version 1)", 2, 1), live_cpu_ddp, allowed=True)
    assert gap.startswith("fsdp (version 1) was asked for")
    assert distribution.refuse_downgrade(Layout("ddp", 2, 1), live_cpu_ddp, allowed=False) is None
    assert distribution.refuse_downgrade(None, Layout("none", 1, 1), allowed=False) is None
    assert distribution.refuse_downgrade(Layout("fsdp (version 2)", 8, 2), Layout("fsdp (version 2)", 8, 2, "nccl"),
                                         allowed=False) is None


def launch(args: list[str], out: Path, model_dir: Path, data: Path, env: dict | None = None, extra=(),
           recipe: Path = REPO / "recipes" / "bloomz_7b1.py") -> subprocess.Popen:
    common = ["--model_name_or_path", str(model_dir), "--train_file", str(data), *SMALL, "--num_train_epochs", "1",
              "--learning_rate", "1e-3", "--seed", "3", "--train_sampling_strategy", "sequential", *extra]
    clean = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    return subprocess.Popen(
        [*LAUNCH, *args, "--mixed_precision", "no", "--dynamo_backend", "no", str(recipe),
         *common, "--output_dir", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**clean, **(env or {})})


def finish(process, timeout=600) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


FSDP_ON_CPU = ["--config_file", str(CONFIGS / "fsdp.yaml"), "--num_processes", "2",
               # accelerate materialises sync_module_states on an accelerator; with them on it refuses a CPU outright
               "--fsdp_sync_module_states", "false", "--fsdp_cpu_ram_efficient_loading", "false"]


@pytest.mark.slow
def test_the_shipped_fsdp_config_on_cpu_is_refused_not_silently_ddp(rows, model_dir, tmp_path):
    """accelerate (1.x) promotes its state to FSDP only on accelerators; on a CPU machine the shipped fsdp.yaml
    runs as DDP over gloo. The recipe stops and says so. The day accelerate runs FSDP on CPU this test fails:
    then assert the FSDP checks of `fsdp_cpu_probe.py` on the recipe itself."""
    data = subset(rows, tmp_path / "eight.jsonl", 8)
    refused = finish(launch(FSDP_ON_CPU, tmp_path / "fsdp", model_dir, data))
    assert refused.returncode != 0
    assert ("bloomz_7b1.py: error: fsdp (version 1) was asked for but ddp runs: accelerate runs FSDP and DeepSpeed "
            "only on GPUs") in refused.stderr
    assert not (tmp_path / "fsdp" / "training_summary.json").exists()

    collapsed = finish(launch(["--cpu", *FSDP_ON_CPU], tmp_path / "cpu", model_dir, data))
    assert collapsed.returncode != 0, collapsed.stderr[-3000:]
    assert "2 processes were asked for but 1 run(s): `accelerate launch --cpu` always starts a single process" in collapsed.stderr

    accepted = finish(launch(FSDP_ON_CPU, tmp_path / "accepted", model_dir, data, extra=["--allow_downgrade"]))
    assert accepted.returncode == 0, accepted.stderr[-3000:]
    summary = json.loads((tmp_path / "accepted" / "training_summary.json").read_text())
    assert summary["distributed"] == {"sharding": "ddp", "processes": 2, "machines": 1, "backend": "gloo"}
    assert "training with less than the launch asked for (--allow_downgrade)" in accepted.stderr


@pytest.mark.slow
def test_fsdp_with_the_shipped_settings_shards_trains_like_ddp_saves_and_resumes(model_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(REPO / "tests/fsdp_cpu_probe.py"),
         str(model_dir), str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    probe = json.loads((tmp_path / "probe.json").read_text())
    assert probe["settings"]["fsdp_transformer_layer_cls_to_wrap"] == "BloomBlock"
    assert probe["units_wrapping_block"] == probe["layers"] == 2  # one FSDP unit per BloomBlock
    half = probe["total_parameters"] / 2
    assert all(abs(n - half) <= 0.01 * half for n in probe["local_parameters"])  # each rank holds about half
    assert probe["fsdp_losses"] == pytest.approx(probe["ddp_losses"], abs=1e-5)
    assert probe["max_abs_diff_fsdp_ddp"] < 1e-5
    assert probe["saved_keys_equal"] and probe["saved_equals_trained"]  # a full state dict from_pretrained loads
    assert probe["resume_exact"] and probe["resumed_losses"] == probe["fsdp_losses"][2:]


@pytest.mark.slow
def test_zero3_on_cpu_partitions_trains_like_ddp_saves_and_resumes(rows, model_dir, tmp_path):
    """The shipped zero3.yaml with DeepSpeed's CPU accelerator over gloo, 2 processes: each holds half of every
    parameter, the losses and the saved weights are DDP's, the saved folder loads, every rank exits 0 after its
    atexit handlers ran, and a resume from a mid-run checkpoint ends where the uninterrupted run did."""
    from transformers import AutoModelForCausalLM

    data = subset(rows, tmp_path / "sixteen.jsonl", 16)
    zero3 = ["--config_file", str(CONFIGS / "zero3.yaml"), "--num_processes", "2"]
    env = {"DS_ACCELERATOR": "cpu"}
    recording = REPO / "tests" / "recording_recipe.py"
    done = finish(launch(zero3, tmp_path / "zero3", model_dir, data, env, ["--save_steps", "2"], recording))
    assert done.returncode == 0, done.stderr[-4000:]
    ddp = finish(launch(["--multi_gpu", "--num_processes", "2"], tmp_path / "ddp", model_dir, data, recipe=recording))
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    summary = json.loads((tmp_path / "zero3" / "training_summary.json").read_text())
    assert summary["distributed"] == {"sharding": "deepspeed (ZeRO stage 3)", "processes": 2, "machines": 1,
                                      "backend": "gloo"}
    # the recipe ends a DeepSpeed rank itself (sft.leave_together), after the atexit handlers
    assert [(tmp_path / "zero3" / f"rank{r}_atexit.txt").read_text() for r in (0, 1)] == ["ran\n"] * 2
    ranks = [json.loads((tmp_path / "zero3" / f"rank{r}_final.json").read_text()) for r in (0, 1)]
    total = ranks[0]["total_parameters"]
    assert all(abs(r["local_parameters"] - total / 2) <= 0.01 * total for r in ranks)  # half each
    ddp_summary = json.loads((tmp_path / "ddp" / "training_summary.json").read_text())
    losses = [[e["loss"] for e in s["log_history"] if "loss" in e] for s in (summary, ddp_summary)]
    assert losses[0] == pytest.approx(losses[1], abs=1e-5) and len(losses[0]) == 4
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "zero3").state_dict()  # a full, loadable folder
    ddp_w = weights(tmp_path / "ddp")
    assert all(torch.allclose(loaded[k].float(), ddp_w[k].float(), atol=1e-5) for k in ddp_w)

    resumed = finish(launch(zero3, tmp_path / "zero3", model_dir, data, env,
                            ["--resume_from_checkpoint", str(tmp_path / "zero3" / "checkpoint-2")], recording))
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    batches = (tmp_path / "zero3" / "batches_rank0.jsonl").read_text().splitlines()
    assert len(batches) == 4 + 2 and batches[4:] == batches[2:4]  # resumed at step 3: the same last 2 batches
    again = json.loads((tmp_path / "zero3" / "training_summary.json").read_text())
    assert again["global_step"] == 4
    assert [e["loss"] for e in again["log_history"] if "loss" in e][-2:] == pytest.approx(losses[0][-2:], abs=1e-6)
    resumed_w = weights(tmp_path / "zero3")
    assert all(torch.allclose(resumed_w[k].float(), loaded[k].float(), atol=1e-6) for k in resumed_w)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_slurm(folder: Path) -> Path:
    """`srun` that starts its command once per node (here: all on localhost, SLURM_PROCID 0..N-1, as with
    --ntasks-per-node=1) and fails if any fails, and `scontrol show hostnames` naming localhost."""
    folder.mkdir()
    (folder / "srun").write_text(
        "#!/bin/bash\npids=()\nfor ((rank = 0; rank < SLURM_NNODES; rank++)); do SLURM_PROCID=$rank \"$@\" & pids+=($!); done\n"
        "status=0\nfor pid in \"${pids[@]}\"; do wait \"$pid\" || status=1; done\nexit $status\n")
    (folder / "scontrol").write_text("#!/bin/bash\nfor ((i = 0; i < SLURM_NNODES; i++)); do echo localhost; done\n")
    for stub in ("srun", "scontrol"):
        (folder / stub).chmod(0o755)
    return folder


@pytest.mark.slow
def test_two_machines_through_the_slurm_script_train_as_one_machine_with_two_processes(rows, model_dir, tmp_path):
    """recipes/slurm/launch.slurm with 2 nodes of 1 process each (2 launchers on localhost, static rendezvous) ends
    with the same weights as 1 machine with 2 processes; exactly one process writes the model, and says so."""
    data = subset(rows, tmp_path / "sixteen.jsonl", 16)
    stubs = fake_slurm(tmp_path / "bin")
    clean = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env = {**clean, "PATH": f"{stubs}:{Path(sys.executable).parent}:{os.environ['PATH']}", "SLURM_NNODES": "2",
           "SLURM_JOB_NODELIST": "node[1-2]", "GPUS_PER_NODE": "1", "MASTER_PORT": str(free_port()),
           "LAUNCH_ARGS": "-q --mixed_precision no --dynamo_backend no"}
    recipe_args = ["--model_name_or_path", str(model_dir), "--train_file", str(data), *SMALL, "--num_train_epochs",
                   "1", "--learning_rate", "1e-3", "--seed", "3", "--train_sampling_strategy", "sequential"]
    nodes = subprocess.run(["bash", "recipes/slurm/launch.slurm", "bloomz_560m", "ddp", *recipe_args, "--output_dir",
                            str(tmp_path / "nodes")], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert nodes.returncode == 0, nodes.stdout[-2000:] + nodes.stderr[-4000:]
    summary = json.loads((tmp_path / "nodes" / "training_summary.json").read_text())
    assert summary["distributed"] == {"sharding": "ddp", "processes": 2, "machines": 2, "backend": "gloo"}
    said = [line for line in nodes.stdout.splitlines() if line.startswith("trained with")]
    assert said == ["trained with sharding ddp over 2 process(es) on 2 machine(s), backend gloo; the model was "
                    "written by process 0 only"]

    for wrong, said in (([], "usage: sbatch --nodes N recipes/slurm/launch.slurm RECIPE CONFIG"),
                        (["bloomz_9b", "fsdp"], "launch.slurm: error: no recipes/bloomz_9b.py here")):
        refused = subprocess.run(["bash", "recipes/slurm/launch.slurm", *wrong], cwd=REPO, env=env,
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and refused.stderr.startswith(said) and refused.stderr.count("\n") == 1

    one = finish(launch(["--multi_gpu", "--num_processes", "2"], tmp_path / "one", model_dir, data,
                        recipe=REPO / "recipes" / "bloomz_560m.py"))
    assert one.returncode == 0, one.stderr[-3000:]
    nodes_w, one_w = weights(tmp_path / "nodes"), weights(tmp_path / "one")
    assert all(torch.equal(nodes_w[k], one_w[k]) for k in one_w)


def scores(folder: Path) -> dict:
    (results,) = folder.rglob("results_*.json")  # written once
    return {task: {k: v for k, v in metrics.items() if k.endswith(",none")}
            for task, metrics in json.loads(results.read_text())["results"].items()}


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["lm_eval", "ecomgpt-eval"])
def test_data_parallel_evaluation_gives_the_scores_of_one_process(entry, eval_dir, tmp_path):
    """lm-eval's data-parallel path (documents split by rank, per-document results gathered on rank 0, our
    aggregations over the gathered items) on 2 CPU processes, with a deterministic model that scores between
    0 and 100: the same per-task scores as 1 process, written once, by rank 0."""
    tasks = "ecom_absa_review_topic,ecom_lenovo_ner,ecom_mepave_value_detection,ecom_openbg_fine_classify"
    args = [str(REPO / "tests/echo_lm.py"), entry, "--model", "ecom-echo", "--tasks", tasks, "--limit", "30"]
    if entry == "lm_eval":
        args += ["--include_path", str(REPO / "ecom_tasks")]
    env = {**{k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")},
           "PYTHONPATH": str(REPO)}
    one = subprocess.run([sys.executable, *args, "--output_path", str(tmp_path / "one")], capture_output=True,
                         text=True, timeout=600, env={**env, "ECHO_LOG": str(tmp_path / "one.log")})
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([*LAUNCH, "--multi_gpu", "--num_processes", "2", "--mixed_precision", "no",
                          "--dynamo_backend", "no", *args, "--output_path", str(tmp_path / "two")],
                         capture_output=True, text=True, timeout=600, env={**env, "ECHO_LOG": str(tmp_path / "two.log")})
    assert two.returncode == 0, two.stderr[-3000:]
    answered = {}
    for line in (tmp_path / "two.log").read_text().splitlines():
        rank, count = map(int, line.split())
        answered[rank] = answered.get(rank, 0) + count
    assert answered == {0: 60, 1: 60}  # 4 tasks x 30 documents, split between the ranks
    assert (tmp_path / "one.log").read_text().split() == ["0", "120"]
    single, parallel = scores(tmp_path / "one"), scores(tmp_path / "two")
    assert set(single) == set(tasks.split(","))
    assert parallel.keys() == single.keys()
    for task in single:  # equal up to the order of a float sum (the gathered documents come rank by rank)
        assert parallel[task] == {k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v
                                  for k, v in single[task].items()}, task
    assert all(0 < value < 100 for task in single.values() for key, value in task.items()
               if key.startswith(("micro_f1,", "rouge_l,")))
    if entry == "ecomgpt-eval":
        assert two.stdout.count("ecomgpt-eval: wrote results") == 1
