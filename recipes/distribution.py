"""How a training run is distributed: what the launch asked for, what the live accelerate state runs, and the
refusal to train with less than was asked.

What runs is read from the live `AcceleratorState`. What was asked comes from the launcher: the variables
`accelerate launch` sets for its children (`ACCELERATE_USE_FSDP`, `ACCELERATE_USE_DEEPSPEED`, `WORLD_SIZE`),
and, because `accelerate launch --cpu` drops the config's sharding and process count without leaving a trace
in them, the launcher's own command line (the parent process, read on Linux from /proc), parsed with
accelerate's launch parser and config loader.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from ecomgpt_core.errors import EcomGPTError


@dataclass(frozen=True)
class Layout:
    """A distribution: `sharding` is `fsdp (version N)`, `deepspeed (ZeRO stage N)`, `ddp` or `none`."""

    sharding: str
    processes: int
    machines: int
    backend: str = "none"
    cpu_launch: bool = False  # asked with `accelerate launch --cpu`

    def as_dict(self) -> dict:
        return {"sharding": self.sharding, "processes": self.processes, "machines": self.machines,
                "backend": self.backend}

    def describe(self) -> str:
        return f"sharding {self.sharding} over {self.processes} process(es) on {self.machines} machine(s)"


def running(state) -> Layout:
    """What runs, from the live accelerate state (not from the configuration asked for)."""
    kind = getattr(state.distributed_type, "name", str(state.distributed_type))
    if kind == "FSDP":
        sharding = f"fsdp (version {getattr(state.fsdp_plugin, 'fsdp_version', 1)})"
    elif kind == "DEEPSPEED":
        sharding = f"deepspeed (ZeRO stage {getattr(state.deepspeed_plugin, 'zero_stage', '?')})"
    elif kind.startswith("MULTI_"):
        sharding = "ddp"
    else:
        sharding = "none"
    processes = int(state.num_processes)
    per_machine = int(os.environ.get("LOCAL_WORLD_SIZE", processes) or processes)  # set by the launcher
    return Layout(sharding, processes, max(1, processes // max(1, per_machine)),
                  getattr(state, "backend", None) or "none")


def is_first_process() -> bool:
    """Whether this is process 0 of a launch (or the only process): the one that writes and reports."""
    return int(os.environ.get("RANK", "0")) == 0


def launcher_flag(name: str) -> bool:
    """Whether `accelerate launch` set `name` (e.g. ACCELERATE_USE_DEEPSPEED) to true for this process."""
    return os.environ.get(name, "").lower() == "true"


def launcher_argv(pid: int | None = None) -> list[str] | None:
    """The `accelerate launch` arguments of the process that started this one, or None (not started by
    accelerate, or no /proc to read)."""
    try:
        raw = Path(f"/proc/{pid or os.getppid()}/cmdline").read_bytes()
    except OSError:
        return None
    argv = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    for i, part in enumerate(argv):
        if part.endswith("accelerate.commands.launch") or (Path(part).name == "accelerate" and argv[i + 1:i + 2] == ["launch"]):
            return argv[i + (1 if part.endswith("launch") else 2):]
    return None


def _sharding_of(distributed_type, fsdp_version=None, zero_stage=None) -> str | None:
    kind = getattr(distributed_type, "name", str(distributed_type or "")).upper()
    if kind.endswith("FSDP"):
        return f"fsdp (version {fsdp_version or 1})"
    if kind.endswith("DEEPSPEED"):
        return f"deepspeed (ZeRO stage {zero_stage or '?'})"
    return None


def _launch_options(argv: list[str]):
    """The launcher's arguments as accelerate's own parser reads them, or None when it cannot."""
    import io

    from accelerate.commands.launch import launch_command_parser

    try:
        with contextlib.redirect_stderr(io.StringIO()):  # the launcher already accepted them; stay quiet
            return launch_command_parser().parse_known_args(argv)[0]
    except SystemExit:
        return None


def asked(argv: list[str] | None = None) -> Layout | None:
    """What the launch asked for, or None when nothing is known (a plain `python recipes/…` run)."""
    argv = launcher_argv() if argv is None else argv
    sharding = processes = machines = None
    cpu = False
    options = _launch_options(argv) if argv else None
    if options is not None:
        from accelerate.commands.config.config_args import load_config_from_file

        cpu = bool(options.cpu)
        config = None
        # the launcher has already read the file; if it cannot be read here, there is nothing more to learn
        with contextlib.suppress(OSError, ValueError):
            config = load_config_from_file(options.config_file) if options.config_file else None
        if config is not None:
            sharding = _sharding_of(config.distributed_type, (config.fsdp_config or {}).get("fsdp_version"),
                                    (config.deepspeed_config or {}).get("zero_stage"))
            processes, machines = config.num_processes, config.num_machines
        if options.use_fsdp:
            sharding = _sharding_of("FSDP", options.fsdp_version)
        if options.use_deepspeed:
            sharding = _sharding_of("DEEPSPEED", zero_stage=options.zero_stage)
        if options.multi_gpu and sharding is None:
            sharding = "ddp"
        processes = options.num_processes or processes
        machines = options.num_machines or machines
    if launcher_flag("ACCELERATE_USE_FSDP"):
        sharding = sharding if sharding and sharding.startswith("fsdp") else _sharding_of("FSDP", os.environ.get("FSDP_VERSION"))
    if launcher_flag("ACCELERATE_USE_DEEPSPEED"):
        sharding = sharding if sharding and sharding.startswith("deepspeed") else _sharding_of("DEEPSPEED")
    if "WORLD_SIZE" in os.environ:
        processes = max(int(processes or 1), int(os.environ["WORLD_SIZE"]))
    if sharding is None and processes is None and machines is None:
        return None
    return Layout(sharding or ("ddp" if (processes or 1) > 1 else "none"), int(processes or 1), int(machines or 1),
                  cpu_launch=cpu)


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available())


def shortfall(wanted: Layout | None, live: Layout) -> str | None:
    """Why `live` is less than `wanted` and how to launch properly, or None when nothing asked for is missing."""
    if wanted is None:
        return None
    unsharded = any(wanted.sharding.startswith(kind) and not live.sharding.startswith(kind)
                    for kind in ("fsdp", "deepspeed"))
    missing = [f"{wanted.sharding} was asked for but {live.sharding} runs"] if unsharded else []
    if wanted.processes > live.processes:
        missing.append(f"{wanted.processes} processes were asked for but {live.processes} run(s)")
    if wanted.machines > live.machines:
        missing.append(f"{wanted.machines} machines were asked for but {live.machines} take(s) part")
    if not missing:
        return None
    if wanted.cpu_launch:
        why = ("`accelerate launch --cpu` always starts a single process and ignores the config's distributed_type "
               "and --num_processes; on a CPU machine launch with `--multi_gpu --num_processes N` instead (DDP over "
               "gloo), and use FSDP or DeepSpeed on GPUs")
    elif unsharded and not _has_accelerator():
        why = ("accelerate runs FSDP and DeepSpeed only on GPUs (or other accelerators); on a CPU-only machine its "
               "state falls back to DDP over gloo")
    else:
        why = "check the launcher's --num_processes / --num_machines and that every machine joined"
    return "; ".join(missing) + f": {why}. Pass --allow_downgrade to train as it runs."


class DowngradeError(EcomGPTError):
    """The run would train with less distribution than its launch asked for."""


def refuse_downgrade(wanted: Layout | None, live: Layout, allowed: bool) -> str | None:
    """Raise `DowngradeError` when `live` falls short of `wanted` and the downgrade is not accepted; return the
    shortfall (to log) when it is accepted."""
    gap = shortfall(wanted, live)
    if gap and not allowed:
        raise DowngradeError(gap)
    return gap
