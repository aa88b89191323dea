"""Console scripts: `ecomgpt` (fetch / verify the evaluation data, the offline demo) and `ecomgpt-eval`
(lm-eval's own CLI with the `ecom_tasks` folder already on its include path)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ecom_tasks import TASKS_DIR
from ecom_tasks.data import EvalDataError, cached_eval_dir
from ecomgpt_core.errors import EcomGPTError, run_command
from ecomgpt_core.files import write_atomic
from ecomgpt_core.openai_client import redact
from ecomgpt_core.options import add_per_task

LM_EVAL_SUBCOMMANDS = ("run", "ls", "validate")
EVAL_HELP = """ecomgpt-eval: lm-eval with the EcomGPT held-out suite on its include path.

  ecomgpt-eval --tasks ecom_unseen --model hf --model_args pretrained=bigscience/bloomz-560m \\
      --batch_size auto --output_path runs/bloomz-560m --log_samples
  ecomgpt-eval --tasks ecom_unseen_release --model hf \\
      --model_args pretrained=bigscience/bloomz-7b1,max_length=964 --gen_kwargs num_beams=4,do_sample=False
  ecomgpt-eval --tasks ecom_unseen --model ecomgpt-openai --model_args model=gpt-3.5-turbo,num_concurrent=8
  ecomgpt-eval ls tasks          this suite's tasks, groups and tags (--all: lm-eval's too)

Data: ECOMGPT_EVAL_DIR (the released sets; else the copy `ecomgpt fetch` puts in the cache, ECOMGPT_CACHE_DIR);
OPENAI_API_KEY for OpenAI models. Results: `ecomgpt-results RUN_DIR --out DIR`.

lm-eval's own options follow.
"""


def _with_include_path(argv: list[str]) -> list[str]:
    if any(arg == "--include_path" or arg.startswith("--include_path=") for arg in argv):
        raise EcomGPTError(
            "ecomgpt-eval sets --include_path to the ecom_tasks folder itself; to combine it with other task "
            f"folders, call lm_eval directly with --include_path {TASKS_DIR}"
        )
    if not argv or argv[0] in ("-h", "--help"):
        return argv
    if argv[0] not in LM_EVAL_SUBCOMMANDS:
        argv = ["run", *argv]  # lm-eval's legacy form: no subcommand means `run`
    return [*argv, "--include_path", str(TASKS_DIR)]


def _suite_names() -> dict[str, str]:
    """This suite's task, group and tag names -> what each is, read from the task folder's YAML files."""
    import yaml

    class Loader(yaml.SafeLoader):  # the YAMLs name Python functions with !function
        pass

    Loader.add_constructor("!function", lambda loader, node: None)
    names: dict[str, str] = {}
    for path in sorted(TASKS_DIR.glob("ecom_*.yaml")):
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader) or {}
        if "group" in config:
            names[config["group"]] = "group"
        elif "task" in config:
            names[config["task"]] = "task"
            for tag in config.get("tag") or []:
                names.setdefault(tag, "tag")
    return names


def _tasks_arg(argv: list[str]) -> list[str]:
    for i, arg in enumerate(argv):
        if arg in ("--tasks", "-t") and i + 1 < len(argv):
            return argv[i + 1].split(",")
        if arg.startswith("--tasks="):
            return arg.split("=", 1)[1].split(",")
    return []


def _check_suite_tasks(argv: list[str]) -> None:
    """Before any model loads: an unknown `ecom_*` name gets a did-you-mean, and the evaluation data of this
    suite's tasks is checked (a missing folder is reported in seconds, not after the model has loaded)."""
    import difflib

    from ecom_tasks.data import check_eval_data

    requested = [name for name in _tasks_arg(argv) if name.startswith("ecom")]
    if not requested:
        return
    known = _suite_names()
    for name in requested:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f"did you mean {' or '.join(close)}?" if close else "`ecomgpt-eval ls tasks` lists them"
            raise EcomGPTError(f"no task, group or tag named {name!r} in this suite; {hint}")
    check_eval_data()


def _output_path(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg in ("--output_path", "-o") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--output_path="):
            return arg.split("=", 1)[1]
    return None


def _refuse_abbreviations(argv: list[str]) -> None:
    """lm-eval's parser takes an unambiguous prefix of an option for the option (argparse's allow_abbrev), so
    `--task ecom_unseen` silently means `--tasks`; this suite asks for the whole name, as the recipes do."""
    from lm_eval._cli.harness import HarnessCLI

    subcommands = HarnessCLI()._subparsers.choices  # lm-eval's own parsers: the options it knows, per subcommand
    command = argv[0] if argv and argv[0] in subcommands else "run"
    options = set(subcommands[command]._option_string_actions)
    for arg in argv:
        name = arg.split("=", 1)[0]
        if name.startswith("--") and name not in options:
            matches = sorted(option for option in options if option.startswith(name))
            if matches:
                raise EcomGPTError(f"{name} is not an option of lm-eval {command}; write the whole name "
                                   f"({' or '.join(matches)})")


def eval_main(argv: list[str] | None = None) -> int:
    """`ecomgpt-eval ...` == `lm_eval ... --include_path <ecom_tasks>`, with the `ecomgpt-openai` model registered
    (its usage file goes beside the results in --output_path)."""
    import os

    from lm_eval.__main__ import cli_evaluate

    import ecomgpt.openai_model  # noqa: F401 - registers ecomgpt-openai
    from ecomgpt.openai_model import USAGE_DIR_VAR
    from recipes.distribution import is_first_process

    argv = list(sys.argv[1:] if argv is None else argv)
    output_path = _output_path(list(argv))
    if output_path:  # lm-eval takes a folder or a .json file name
        os.environ[USAGE_DIR_VAR] = str(Path(output_path).parent if output_path.endswith(".json") else output_path)
    def work() -> int:
        if not argv or argv[0] in ("-h", "--help"):
            print(EVAL_HELP)  # this suite's usage first; lm-eval's own options follow
        if argv and argv[0] == "ls" and "--all" not in argv[1:]:
            print("\n".join(f"{kind:<5}  {name}" for name, kind in sorted(_suite_names().items(), key=lambda x: (x[1], x[0]))))
            print("(this suite's tasks, groups and tags; `ecomgpt-eval ls tasks --all` lists lm-eval's as well)")
            return 0
        if argv and argv[0] == "ls":
            argv.remove("--all")
        _refuse_abbreviations(list(argv))
        _check_suite_tasks(list(argv))
        sys.argv = ["ecomgpt-eval", *_with_include_path(list(argv))]
        # Under `accelerate launch` lm-eval gathers the results on process 0, which alone writes them.
        writer = is_first_process()
        try:
            cli_evaluate()
        finally:
            if output_path and writer:
                _redact_outputs(Path(output_path))
        if output_path and writer:
            print(f"ecomgpt-eval: wrote results and samples under {output_path}")
        return 0

    _redact_terminal_and_logs()
    return run_command("ecomgpt-eval", work)


class _RedactingStream:
    """A text stream that writes everything through `redact` (lm-eval prints its model_args)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _redact_terminal_and_logs() -> None:
    """Keys and passwords in URLs reach neither the terminal nor any log record of this process."""
    if not isinstance(sys.stdout, _RedactingStream):
        sys.stdout, sys.stderr = _RedactingStream(sys.stdout), _RedactingStream(sys.stderr)
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacting", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return record

    factory.redacting = True
    logging.setLogRecordFactory(factory)


def _redact_outputs(root: Path) -> None:
    """lm-eval writes model_args (a base_url with a password, say) into its results and samples files: rewrite
    any such file without them."""
    files = [root] if root.is_file() else [*root.rglob("results_*.json"), *root.rglob("samples_*.jsonl")]
    for file in files:
        text = file.read_text(encoding="utf-8", errors="surrogateescape")
        clean = redact(text)
        if clean != text:
            write_atomic(file, clean.encode("utf-8", errors="surrogateescape"))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecomgpt")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    from ecom_tasks import fetch as fetch_module

    parser = argparse.ArgumentParser(prog="ecomgpt", description="EcomGPT toolkit commands.")
    parser.add_argument("--version", action="version", version=f"ecomgpt {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("tasks-path", help="print the installed task folder, for lm_eval --include_path "
                                           "\"$(ecomgpt tasks-path)\" from any folder")
    fetch = commands.add_parser("fetch", help="download the 13 released evaluation sets and check their hashes")
    fetch.add_argument("--dest", type=Path, help="target folder (default: the per-user cache)")
    fetch.add_argument("--base-url", help=f"mirror of the release's data folder (or ${fetch_module.BASE_URL_ENV})")
    fetch.add_argument("--from", dest="source_dir", type=Path, metavar="DIR",
                       help="import a local copy of the release's data folder instead of downloading (hashes checked)")
    fetch.add_argument("--force", action="store_true", help="download again even when a verified copy exists")
    verify = commands.add_parser("verify", help="check an evaluation data folder against the release hashes")
    verify.add_argument("folder", type=Path)
    demo = commands.add_parser("demo", help="the whole pipeline with a tiny random model on this machine (smoke run)")
    demo.add_argument("--out", type=Path, default=Path("ecomgpt-demo"), help="output folder (default ./ecomgpt-demo)")
    demo.add_argument("--raw-dir", help="raw datasets (default: $ECOMGPT_RAW_DIR, else the fetched copy)")
    demo.add_argument("--source", dest="sources", action="append", default=[],
                      help="train on these sources' classification tasks (repeatable; default: "
                           "product_matching_magellan, ecd_ecommerce_dialogue_sample, semeval_absa_laptops)")
    demo.add_argument("--task", dest="tasks", action="append", default=[],
                      help="evaluate on these tasks (repeatable; default: the four matching / topic tasks)")
    add_per_task(demo, 64, "instances per training task")
    demo.add_argument("--steps", type=int, default=150, help="fine-tuning steps (default 150)")
    demo.add_argument("--limit", type=int, default=24, help="records per evaluation task (default 24)")
    demo.add_argument("--max-gen-toks", type=int, default=8, help="(default 8)")
    demo.add_argument("--overwrite", action="store_true")
    from ecomgpt.score import add_arguments

    score = commands.add_parser("score", help="score a model on ecom_unseen and print the Table-4 summary (the "
                                              "main job; scripts/run.sh runs it)")
    add_arguments(score)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "score":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    def work() -> int:
        if args.command == "tasks-path":
            print(TASKS_DIR)
        elif args.command == "score":
            from ecomgpt.score import run_score

            run_score(args.out, args.model, args.model_args, args.limit, args.batch_size, args.label,
                      args.allow_fetch, extra)
        elif args.command == "demo":
            from ecomgpt.demo import run_demo

            if args.tasks:  # the same check as ecomgpt-eval's, before anything is built or trained
                _check_suite_tasks(["--tasks", ",".join(args.tasks)])
            run_demo(args.out, args.raw_dir, args.sources, args.per_task, args.steps, args.limit, args.max_gen_toks,
                     args.overwrite, args.tasks)
        elif args.command == "fetch":
            target = args.dest if args.dest is not None else cached_eval_dir()
            if fetch_module.ready(target, args.force):  # fetch() would leave it as it is
                print(f"{target}: the 13 released evaluation sets are already there, every hash checked; nothing "
                      "written (--force fetches them again)")
            else:
                dest = fetch_module.fetch(target, args.base_url, args.force, args.source_dir)
                print(f"wrote {dest}: the 13 released evaluation sets, every hash checked"
                      + (f" (imported from {args.source_dir})" if args.source_dir else ""))
            if args.dest is not None:
                print(f"use them with: export ECOMGPT_EVAL_DIR={target}")
        elif args.command == "verify":
            problems = fetch_module.verify_dir(args.folder)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                raise EvalDataError(f"{len(problems)} file(s) differ from the release")
            print(f"{args.folder}: all 26 files match the release")
        return 0

    return run_command(f"ecomgpt {args.command}", work)
