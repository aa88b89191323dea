"""`ecomgpt score`: the main job in one command. Score a model on the 12 held-out tasks (`ecom_unseen`) through
`ecomgpt-eval` (lm-eval), write the paper's tables beside the reported numbers (`ecomgpt-results`), and print
the Table-4 summary. `scripts/run.sh` sets up the environment and calls it.

Without `--model_args` it scores a tiny random BLOOM built here in seconds (no hub needed), on `--limit 20`
records per task with short answers: it runs exactly the path a real checkpoint takes, in about a minute on
two CPU cores, and its scores mean nothing. (The demo's fine-tuned tiny model would need minutes of training
first and scores no better; `ecomgpt demo` shows that pipeline.)"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from ecom_tasks import fetch as fetch_module
from ecom_tasks.data import EvalDataError, EvalRelease, check_eval_data, eval_dir
from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.files import published_dir

TINY_LIMIT = 20
TINY_MAX_GEN_TOKS = 32


def ready_eval_dir(allow_fetch: bool) -> Path:
    """The evaluation sets, checked before any model loads: $ECOMGPT_EVAL_DIR, else the fetched copy, else
    `ecomgpt fetch` when `allow_fetch` (and the network) allow."""
    try:
        root = eval_dir()
    except EvalDataError as missing:
        if not allow_fetch or os.environ.get("ECOMGPT_EVAL_DIR"):
            raise
        print(f"{missing}\nfetching the released evaluation sets ...", flush=True)
        try:
            root = fetch_module.fetch()
        except EvalDataError as error:
            raise EvalDataError(f"no evaluation sets here and fetching them failed ({error}); set ECOMGPT_EVAL_DIR "
                                "to a copy (e.g. ../shared/ecominstruct_eval)") from None
    return check_eval_data(root)


TINY_COMPLETE = ".complete"  # written last: a folder without it was cut off (an earlier version's, or killed)


def tiny_model(out: Path, release: EvalRelease) -> Path:
    """The smoke run's tiny BLOOM in `out`, made once and published whole (a staging folder renamed into place);
    a folder without its completeness mark is made again, never loaded half-written."""
    from ecomgpt.tiny_bloom import make_tiny_bloom

    if (out / TINY_COMPLETE).is_file():
        return out
    if out.exists():
        print(f"{out} is incomplete (cut off while it was written): making the tiny model again", flush=True)
    with published_dir(out, replace=True) as staging:
        make_tiny_bloom(staging, release.texts(), hidden_size=64)
        (staging / TINY_COMPLETE).write_text("", encoding="utf-8")
    return out


def run_score(out: Path, model: str, model_args: str | None, limit: int | None, batch_size: str, label: str | None,
              allow_fetch: bool, extra: list[str]) -> Path:
    from ecomgpt.results import make_results

    try:  # checked before anything runs: a file in the way, a read-only or virtual file system
        Path(out).mkdir(parents=True, exist_ok=True)
        probe = Path(out) / f".write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise EcomGPTError(f"--out {out}: cannot write there ({error.strerror}: {error.filename}); choose another "
                           "folder (OUT=... for scripts/run.sh)") from None
    root = ready_eval_dir(allow_fetch)
    print(f"evaluation sets: {root}", flush=True)
    gen_kwargs = []
    if not model_args:
        model_dir = tiny_model(out / "tiny-bloom", EvalRelease(root))
        model, model_args = "hf", f"pretrained={model_dir},dtype=float32"
        limit = TINY_LIMIT if limit is None else limit
        batch_size = "16" if batch_size == "auto" else batch_size  # lm-eval's search for a batch size is slow on CPU
        gen_kwargs = ["--gen_kwargs", f"max_gen_toks={TINY_MAX_GEN_TOKS}", "--device", "cpu"]
        label = label or "tiny random BLOOM (smoke run)"
        print(f"no --model_args: scoring a tiny random BLOOM ({model_dir}) on {limit} records per task; "
              "its scores mean nothing (set MODEL_ARGS=pretrained=bigscience/bloomz-560m for a real model)", flush=True)
    eval_out = out / "lm_eval"
    command = [str(Path(sys.executable).with_name("ecomgpt-eval")), "--tasks", "ecom_unseen", "--model", model,
               "--model_args", model_args, "--batch_size", batch_size, "--output_path", str(eval_out),
               "--log_samples", *gen_kwargs, *(["--limit", str(limit)] if limit else []), *extra]
    print("$ " + " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        raise EcomGPTError(f"ecomgpt-eval failed (see above); its command was: {' '.join(command)}")
    results = out / "results"
    _, warnings = make_results([eval_out], results, [label] if label else None, plot_limited=True)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    table = (results / "table4_unseen.md").read_text(encoding="utf-8")
    print("\n" + table)
    print(f"(scored on --limit {limit} records per task, not the paper's 500: not comparable with its rows)"
          if limit else "(all 500 records of every task)")
    print(f"\nwrote {eval_out} (lm-eval results and samples) and {results} (results.md, tables, plots)")
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("runs/score"), help="output folder (default runs/score)")
    parser.add_argument("--model", default="hf", help="an lm-eval model type (default hf)")
    parser.add_argument("--model_args", help="lm-eval --model_args, e.g. pretrained=bigscience/bloomz-560m "
                                             "(default: a tiny random BLOOM built here, a smoke run)")
    parser.add_argument("--limit", type=int, help="records per task (default all 500; 20 for the tiny model)")
    parser.add_argument("--batch_size", default="auto")
    parser.add_argument("--label", help="the run's name in the tables")
    parser.add_argument("--no-fetch", dest="allow_fetch", action="store_false",
                        help="never download the evaluation sets")
