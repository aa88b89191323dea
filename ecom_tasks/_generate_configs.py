"""Writes the task and group YAMLs of this folder from the release manifest and the measured target lengths.

    ECOMGPT_EVAL_DIR=../shared/ecominstruct_eval python -m ecom_tasks._generate_configs

The YAMLs are committed; a test checks they match what this script renders from the data.
"""

from __future__ import annotations

from pathlib import Path

from ecom_tasks.release import RELEASE_SUFFIX, TASK_NAMES, UNSEEN_TASKS, released_tasks
from ecom_tasks.target_lengths import length_stats

HERE = Path(__file__).parent

TEMPLATE_OF_PARADIGM = {"cls": "_cls_template_yaml", "ner": "_ner_template_yaml", "ext": "_text_template_yaml",
                        "gen": "_text_template_yaml"}

DEFAULT_VERSION = "1.1"  # 1.1: ROUGE-L tokens without edge punctuation; NER values without a trailing stop
RELEASE_VERSION = "1.0"
RELEASE_TEMPLATE_OF_PARADIGM = {"cls": "_release_set_template_yaml", "ext": "_release_set_template_yaml",
                                "gen": "_release_set_template_yaml", "ner": "_release_ner_template_yaml"}
RELEASE_MAX_GEN_TOKS = 164  # the released eval.py's answer_length

GROUP_DOCS = {
    "ecom_unseen": "the official 12 held-out tasks of EcomGPT",
    "ecom_unseen_task": "the three unseen tasks of the paper's Table 4 (Product Align, Review Topic, Product Select)",
    "ecom_unseen_dataset": "the nine official held-out tasks on unseen datasets",
    "ecom_unseen_release": "the official 12 held-out tasks, scored as the released code scores them",
    "ecom_unseen_task_release": "the three unseen tasks of Table 4, scored as the released code scores them",
    "ecom_unseen_dataset_release": "the nine held-out tasks on unseen datasets, scored as the released code does",
}
AGGREGATED_METRICS = ("micro_f1", "macro_f1", "rouge_l")


def render_task(folder: str, targets: list[str]) -> str:
    task = released_tasks()[folder]
    stats = length_stats(targets)
    return (
        f"# {folder}: {task.task_type}, {task.lang.upper()}.\n"
        f"# Gold targets in UTF-8 bytes (an upper bound on the tokens of a byte-level BPE tokenizer such as\n"
        f"# BLOOM's): p50 {stats.p50}, p99 {stats.p99}, max {stats.max} -> max_gen_toks {stats.max_gen_toks}"
        f" fits >= 99% of them.\n"
        f"include: {TEMPLATE_OF_PARADIGM[task.paradigm]}\n"
        f"task: {TASK_NAMES[folder]}\n"
        f"tag: [ecom_{task.paradigm}, ecom_{task.lang}]\n"
        f"generation_kwargs:\n"
        f"  until: [\"###\"]\n"
        f"  do_sample: false\n"
        f"  max_gen_toks: {stats.max_gen_toks}\n"
        f"metadata:\n"
        f"  version: {DEFAULT_VERSION}\n"
        f"  ecomgpt_task: {folder}\n"
    )


def render_release_task(folder: str) -> str:
    task = released_tasks()[folder]
    return (
        f"# {folder}: {task.task_type}, {task.lang.upper()}; the release profile (release_metrics.py): the\n"
        f"# released code's candidates, scoring and answer length ({RELEASE_MAX_GEN_TOKS} tokens, end-of-sequence only).\n"
        f"include: {RELEASE_TEMPLATE_OF_PARADIGM[task.paradigm]}\n"
        f"task: {TASK_NAMES[folder]}{RELEASE_SUFFIX}\n"
        f"tag: [ecom_release]\n"
        f"generation_kwargs:\n"
        f"  until: []\n"
        f"  do_sample: false\n"
        f"  max_gen_toks: {RELEASE_MAX_GEN_TOKS}\n"
        f"metadata:\n"
        f"  version: {RELEASE_VERSION}\n"
        f"  ecomgpt_task: {folder}\n"
        f"  profile: release\n"
    )


def group_members() -> dict[str, list[str]]:
    """Group -> member task names."""
    official = [f for f, t in released_tasks().items() if t.official]
    groups = {
        "ecom_unseen": official,
        "ecom_unseen_task": [f for f in official if f in UNSEEN_TASKS],
        "ecom_unseen_dataset": [f for f in official if f not in UNSEEN_TASKS],
    }
    members = {group: [TASK_NAMES[f] for f in folders] for group, folders in groups.items()}
    members.update({f"{group}{RELEASE_SUFFIX}": [f"{TASK_NAMES[f]}{RELEASE_SUFFIX}" for f in folders]
                    for group, folders in groups.items()})
    return members


def render_group(group: str, members: list[str]) -> str:
    lines = [f"# {GROUP_DOCS[group]}; aggregates are the unweighted mean over member tasks reporting the metric.",
             f"group: {group}", "task:"]
    lines += [f"  - {name}" for name in members]
    lines.append("aggregate_metric_list:")
    for metric in AGGREGATED_METRICS:
        lines += [f"  - metric: {metric}", "    aggregation: mean", "    weight_by_size: false"]
    lines += ["metadata:", f"  version: {RELEASE_VERSION if group.endswith(RELEASE_SUFFIX) else DEFAULT_VERSION}", ""]
    return "\n".join(lines)


def rendered_files() -> dict[str, str]:
    """File name -> content of every generated YAML."""
    from ecom_tasks.utils import build_docs

    files = {}
    for folder in released_tasks():
        files[f"{TASK_NAMES[folder]}.yaml"] = render_task(folder, [d["target"] for d in build_docs(folder)])
        files[f"{TASK_NAMES[folder]}_release.yaml"] = render_release_task(folder)
    for group, members in group_members().items():
        files[f"{group}.yaml"] = render_group(group, members)
    return files


def main() -> None:
    for name, content in rendered_files().items():
        (HERE / name).write_text(content, encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
