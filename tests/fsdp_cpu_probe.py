"""FSDP with the shipped `recipes/accelerate_configs/fsdp.yaml` settings on CPU: run with
`torchrun --nproc_per_node 2 tests/fsdp_cpu_probe.py MODEL_DIR OUT_DIR`.

accelerate turns FSDP into DDP on a CPU-only machine (its state promotes to FSDP only on accelerators), so the
recipe cannot show FSDP here. This script applies the same settings with torch's FSDP over gloo, to prove what
the recipe relies on: the wrap policy (one unit per BloomBlock), the sharding (each rank holds half), training
equal to DDP, the full state dict that `from_pretrained` loads, and an exact resume from the full model state
and each rank's optimizer shard. It also measures the full optimizer state's round trip (FSDP.optim_state_dict
and back), which a FULL_STATE_DICT checkpoint relies on. Rank 0 writes OUT_DIR/probe.json.
"""

from __future__ import annotations

import copy
import functools
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import yaml
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import apply_activation_checkpointing
from torch.distributed.fsdp import BackwardPrefetch, FullStateDictConfig, ShardingStrategy, StateDictType
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
from torch.nn.parallel import DistributedDataParallel as DDP
from transformers import AutoModelForCausalLM
from transformers.models.bloom import modeling_bloom

REPO = Path(__file__).resolve().parents[1]
STEPS, RESUME_AT, LR = 4, 2, 1e-3


def settings() -> dict:
    return yaml.safe_load((REPO / "recipes/accelerate_configs/fsdp.yaml").read_text())["fsdp_config"]


def batches(rank: int, world: int, vocab: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    every = [torch.randint(0, vocab, (2 * world, 24), generator=generator) for _ in range(STEPS)]
    return [batch[rank::world] for batch in every]  # each rank its own half of every global batch


def fsdp_model(model_dir: str, config: dict):
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    block = getattr(modeling_bloom, config["fsdp_transformer_layer_cls_to_wrap"])
    wrapped = FSDP(
        model,
        auto_wrap_policy=functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={block}),
        sharding_strategy=ShardingStrategy[config["fsdp_sharding_strategy"]],
        backward_prefetch=BackwardPrefetch[config["fsdp_backward_prefetch"]],
        forward_prefetch=config["fsdp_forward_prefetch"],
        use_orig_params=config["fsdp_use_orig_params"],
        device_id=torch.device("cpu"),
    )
    if config["fsdp_activation_checkpointing"]:
        apply_activation_checkpointing(wrapped, check_fn=lambda module: isinstance(module, block))
    return wrapped, block


def step(model, optimizer, batch) -> float:
    loss = model(input_ids=batch, labels=batch, use_cache=False).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    mean = loss.detach().clone()
    dist.all_reduce(mean)
    return mean.item() / dist.get_world_size()


def full_state(model) -> dict:
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, FullStateDictConfig(rank0_only=True)):
        return {k: v.clone() for k, v in model.state_dict().items()}


def main(model_dir: str, out_dir: str) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    out = Path(out_dir)
    config = settings()
    torch.manual_seed(0)
    total = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(model_dir).parameters())
    data = batches(rank, world, AutoModelForCausalLM.from_pretrained(model_dir).config.vocab_size)
    report: dict = {"world": world, "total_parameters": total, "settings": config}

    # FSDP with the shipped settings
    model, block = fsdp_model(model_dir, config)
    units = [m for m in FSDP.fsdp_modules(model) if m is not model]
    report["units_wrapping_block"] = sum(isinstance(getattr(m, "_fsdp_wrapped_module", None), block) or
                                         isinstance(getattr(getattr(m, "_fsdp_wrapped_module", None), "_checkpoint_wrapped_module", None), block)
                                         for m in units)
    report["layers"] = model.config.n_layer
    local = [sum(m._flat_param.numel() for m in FSDP.fsdp_modules(model) if getattr(m, "_flat_param", None) is not None)]
    gathered = [None] * world
    dist.all_gather_object(gathered, local[0])
    report["local_parameters"] = gathered
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    report["fsdp_losses"] = [step(model, optimizer, batch) for batch in data]
    fsdp_final = full_state(model)

    # the same run as DDP
    ddp = DDP(AutoModelForCausalLM.from_pretrained(model_dir))
    optimizer = torch.optim.AdamW(ddp.parameters(), lr=LR)
    report["ddp_losses"] = [step(ddp, optimizer, batch) for batch in data]
    ddp_final = {k: v.detach().clone() for k, v in ddp.module.state_dict().items()}

    # resume: stop after RESUME_AT steps, keep the full model state and each rank's optimizer shard (what a
    # SHARDED_STATE_DICT checkpoint holds), restart from the original weights, load, continue
    model, _ = fsdp_model(model_dir, config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    for batch in data[:RESUME_AT]:
        step(model, optimizer, batch)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, FullStateDictConfig(rank0_only=False)):
        saved_model = {k: v.clone() for k, v in model.state_dict().items()}
        # the full optimizer state (what a FULL_STATE_DICT checkpoint holds), converted there and back
        back = FSDP.optim_state_dict_to_load(model, optimizer, FSDP.optim_state_dict(model, optimizer))
    saved_optim = copy.deepcopy(optimizer.state_dict())
    drift = [(saved_optim["state"][k][name] - back["state"][k][name]).abs().max().item()
             for k in saved_optim["state"] for name in ("exp_avg", "exp_avg_sq")]
    drifts = [None] * world
    dist.all_gather_object(drifts, max(drift))
    report["full_optimizer_round_trip_max_abs_diff"] = max(drifts)
    model, _ = fsdp_model(model_dir, config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, FullStateDictConfig(rank0_only=False)):
        model.load_state_dict(saved_model)
    optimizer.load_state_dict(saved_optim)
    report["resumed_losses"] = [step(model, optimizer, batch) for batch in data[RESUME_AT:]]
    resumed_final = full_state(model)

    if rank == 0:
        plain = AutoModelForCausalLM.from_pretrained(model_dir)
        plain.save_pretrained(out / "fsdp_full", state_dict=fsdp_final)
        loaded = AutoModelForCausalLM.from_pretrained(out / "fsdp_full").state_dict()
        report["saved_keys_equal"] = sorted(loaded) == sorted(plain.state_dict())
        report["saved_equals_trained"] = all(torch.equal(loaded[k], fsdp_final[k]) for k in loaded if k in fsdp_final)
        report["max_abs_diff_fsdp_ddp"] = max((fsdp_final[k] - ddp_final[k]).abs().max().item() for k in ddp_final)
        report["resume_exact"] = all(torch.equal(resumed_final[k], fsdp_final[k]) for k in fsdp_final)
        (out / "probe.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
