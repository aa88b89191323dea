"""What the suite adds on top of lm-eval: the 12 official tasks x 500 records scored with a zero-cost
model that answers with the gold target, against the same run where every metric is lm-eval's built-in
`exact_match`. Prints both times and their ratio (goal: <= 1.15x).

    .venv/bin/python benchmarks/eval_overhead.py [--repeats 3] [--limit N] [--answers gold|reversed]

`--answers reversed` answers with each gold target written backwards: wrong answers of the same length, and
texts the scorer has not seen (its token cache is emptied before every timed run either way).

(the evaluation sets as every command finds them: $ECOMGPT_EVAL_DIR, else the fetched copy).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from lm_eval import simple_evaluate  # noqa: E402
from lm_eval.api.model import LM  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

from ecom_tasks import TASKS_DIR, metrics  # noqa: E402
from ecom_tasks._generate_configs import TASK_NAMES, group_members  # noqa: E402
from ecom_tasks.utils import build_docs  # noqa: E402


class GoldEcho(LM):
    """Answers every prompt with its gold target: no model cost. (A few prompts occur twice in a task with
    different targets; they get one of them, so scores land just under 100.)"""

    def __init__(self, answers: dict[str, str]):
        super().__init__()
        self.answers = answers

    def generate_until(self, requests, disable_tqdm: bool = False):
        return [self.answers[request.args[0]] for request in requests]

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError


def exact_match_tasks(folder: Path, members: list[str]) -> str:
    """`members` are task names (`ecom_absa_review_topic`)."""
    """Copies of the task YAMLs whose only metric is lm-eval's built-in exact_match; returns the group name."""
    (folder / "_em_template_yaml").write_text(
        "custom_dataset: !function ecom_tasks.utils.load_docs\ntest_split: test\noutput_type: generate_until\n"
        "doc_to_text: !function ecom_tasks.utils.doc_to_text\ndoc_to_target: !function ecom_tasks.utils.doc_to_target\n"
        "metric_list:\n  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n",
        encoding="utf-8",
    )
    names = []
    for source in members:
        text = (TASKS_DIR / f"{source}.yaml").read_text(encoding="utf-8")
        body = [line for line in text.splitlines() if not line.startswith(("include:", "tag:", "task:"))]
        name = source + "_em"
        names.append(name)
        (folder / f"{name}.yaml").write_text(
            "\n".join(["include: _em_template_yaml", f"task: {name}", *body, ""]), encoding="utf-8")
    (folder / "ecom_unseen_em.yaml").write_text(
        "group: ecom_unseen_em\ntask:\n" + "".join(f"  - {n}\n" for n in names)
        + "aggregate_metric_list:\n  - metric: exact_match\n    weight_by_size: false\n", encoding="utf-8")
    return "ecom_unseen_em"


def timed_run(model: LM, group: str, include_path: Path, limit: int | None) -> tuple[float, dict]:
    metrics.clear_caches()
    start = time.perf_counter()
    results = simple_evaluate(model=model, tasks=[group], task_manager=TaskManager(include_path=str(include_path)),
                              verbosity="ERROR", limit=limit)
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the fastest counts")
    parser.add_argument("--limit", type=int, help="records per task (default: all 500; a smoke run takes a few)")
    parser.add_argument("--answers", choices=("gold", "reversed"), default="gold",
                        help="answer with the gold target (default) or with it written backwards")
    args = parser.parse_args()
    logging.getLogger("lm_eval").setLevel(logging.ERROR)

    members = group_members()["ecom_unseen"]  # task names
    folders = {name: folder for folder, name in TASK_NAMES.items()}
    answers = {doc["prompt"]: doc["target"] if args.answers == "gold" else doc["target"][::-1]
               for name in members for doc in build_docs(folders[name])}
    model = GoldEcho(answers)
    with tempfile.TemporaryDirectory() as tmp:
        em_group = exact_match_tasks(Path(tmp), members)
        suite_times, em_times = [], []
        for _ in range(args.repeats):
            seconds, suite = timed_run(model, "ecom_unseen", TASKS_DIR, args.limit)
            suite_times.append(seconds)
            seconds, em = timed_run(model, em_group, Path(tmp), args.limit)
            em_times.append(seconds)

    records = sum(suite["n-samples"][name]["effective"] for name in suite["n-samples"])
    print(f"records scored per run: {records} ({len(members)} tasks)")
    print(f"ecom_unseen, suite metrics   : {min(suite_times):7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in suite_times)})")
    print(f"ecom_unseen, exact_match only: {min(em_times):7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in em_times)})")
    print(f"ratio suite / exact_match    : {min(suite_times) / min(em_times):7.2f}x fastest, "
          f"{statistics.median(suite_times) / statistics.median(em_times):.2f}x median  (goal <= 1.15x)")
    group = suite["groups"]["ecom_unseen"]
    print(f"{args.answers} answers score: " + ", ".join(f"{m} {group[m + ',none']:.2f}" for m in ("micro_f1", "macro_f1", "rouge_l"))
          + f"; exact_match {em['groups'][em_group]['exact_match,none']:.3f}")


if __name__ == "__main__":
    main()
