"""`ecomgpt-results RUN_DIR... --out DIR`: the paper's tables and plots from lm-eval output folders, with the
paper's reported numbers beside them.

A run folder is what `lm_eval --output_path` wrote: one run per model folder in it (the newest `results_*.json` of
each), so a parent folder that several models share gives one row per model.
Tables, each as Markdown, CSV and LaTeX with two decimals: Table 4's layout (unseen datasets and the three
unseen tasks), every task x metric, and ROUGE-L by paradigm and by language (the layouts of Tables 9 and 10).
Plots: Table 4's columns as grouped bars, and scaling curves for runs labelled `NAME@tasks=K` or
`NAME@per_task=N` (one line per NAME, like the paper's Figures 4 and 5). A run missing tasks or metrics is
shown with gaps and a warning; two runs with one label are an error.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from importlib import resources
from dataclasses import dataclass, field
from pathlib import Path

from ecom_tasks.release import TASK_NAMES, UNSEEN_TASKS, Profile, released_tasks
from ecomgpt_core.errors import EcomGPTError, run_command
from ecomgpt_core.files import write_atomic

PAPER_CSV = resources.files("ecomgpt") / "paper_reported.csv"  # package data: present in wheel installs too
METRICS = ("micro_f1", "macro_f1", "rouge_l")
METRIC_NAMES = {"micro_f1": "micro-F1", "macro_f1": "macro-F1", "rouge_l": "ROUGE-L", "invalid_rate": "invalid (%)"}
INVALID = "invalid_rate"  # lower is better; a fraction in lm-eval's results, shown here in percent
TASKS = {TASK_NAMES[folder]: task for folder, task in released_tasks().items()}
OFFICIAL = [name for name, task in TASKS.items() if task.official]
UNSEEN_TASK_NAMES = {TASK_NAMES[folder] for folder in UNSEEN_TASKS}
UNSEEN_DATASET = [name for name in OFFICIAL if name not in UNSEEN_TASK_NAMES]
PRODUCT_ALIGN, REVIEW_TOPIC, PRODUCT_SELECT = (TASK_NAMES[f] for f in UNSEEN_TASKS)
# Table 4's columns: (heading, the paper CSV's column)
TABLE4 = [
    ("Unseen Dataset micro-F1", "unseen_dataset_micro_f1"), ("Unseen Dataset macro-F1", "unseen_dataset_macro_f1"),
    ("Unseen Dataset ROUGE-L", "unseen_dataset_rouge_l"),
    ("Product Align micro-F1", "product_align_micro_f1"), ("Product Align macro-F1", "product_align_macro_f1"),
    ("Product Align ROUGE-L", "product_align_rouge_l"),
    ("Review Topic micro-F1", "review_topic_micro_f1"), ("Review Topic macro-F1", "review_topic_macro_f1"),
    ("Review Topic ROUGE-L", "review_topic_rouge_l"), ("Product Select ROUGE-L", "product_select_rouge_l"),
]
PARADIGM_COLUMNS = ["CLS", "EXT", "GEN", "NER", "Other (GEN+NER)", "All"]
LANGUAGE_COLUMNS = ["EN", "ZH", "EN+ZH"]
SCALING_LABEL = re.compile(r"^(?P<name>.+)@(?P<axis>tasks|per_task)=(?P<x>\d+)$")
PAPER_SOURCE = "Reported numbers are the paper's (ecomgpt/paper_reported.csv, transcribed from its Tables 4, 9 and 10). "
TABLE9_NOTE = ("The paper does not list which tasks its Table 9 columns (cls / ext / other) hold; 'Other (GEN+NER)' "
               "is our reading.")
METRIC_NOTE = (
    PAPER_SOURCE + "They are not comparable with runs of the default profile (`ecom_unseen`, marked `[default "
    "v<version>]`): it scores set-F1 over answer items, NER by (type, span) pairs and ROUGE-L with jieba + "
    "rouge-chinese, while the released scorer scores NER with seqeval BIO tags and ROUGE with the `rouge` package "
    "on unsegmented text. Runs of the release profile (`ecom_unseen_release`, marked `[release v<version>]`) are "
    "scored as the released code scores them, on all 500 records, and can be put beside the paper's numbers. "
    + TABLE9_NOTE
)
RELEASE_NOTE = (PAPER_SOURCE + "Every run here used the release profile (`ecom_unseen_release`): scored as the "
                "released code scores them, on all 500 records, so they can be put beside these numbers. "
                + TABLE9_NOTE)


class ResultsError(EcomGPTError):
    pass


@dataclass
class Run:
    label: str
    path: Path
    scores: dict[str, dict[str, float]]  # task -> metric -> value (0-100)
    warnings: list[str] = field(default_factory=list)
    base_label: str = ""  # the label without the "(limit N)" mark
    limit: float | None = None  # lm-eval's --limit, when the run used one
    profile: Profile = Profile.DEFAULT  # ecom_unseen or ecom_unseen_release
    versions: dict[str, str] = field(default_factory=dict)  # task -> its metadata.version
    results_file: Path | None = None  # the lm-eval results file read (its samples lie beside it)
    _samples: dict | None = field(default=None, repr=False)

    def samples(self) -> dict[str, list[dict]]:
        """Task -> its per-document samples (`--log_samples`), read once; {} when the run logged none."""
        if self._samples is None:
            from ecomgpt.bootstrap import read_samples

            self._samples = read_samples(self.results_file) if self.results_file else {}
        return self._samples


def expected_metrics(task: str, profile: Profile = Profile.DEFAULT) -> tuple[str, ...]:
    """The metrics a task reports: all three in the release profile, F1 only on CLS / NER tasks otherwise."""
    return METRICS if profile is Profile.RELEASE or TASKS[task].paradigm in ("cls", "ner") else ("rouge_l",)


def _default_label(data: dict, path: Path) -> str:
    model_args = str((data.get("config") or {}).get("model_args") or "")
    match = re.search(r"(?:pretrained|model)=([^,]+)", model_args)
    if match:
        return Path(match[1].rstrip("/")).name or match[1]
    return str(data.get("model_name") or path.name)


def load_results_file(file: Path) -> dict:
    """An lm-eval results file, or a ResultsError naming it and what is wrong."""
    try:
        data = json.loads(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ResultsError(f"{file}: not valid UTF-8 ({error.reason} at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise ResultsError(f"{file}:{error.lineno}: not JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{file}: not an lm-eval results file (a JSON {type(data).__name__}, not an object)")
    if not isinstance(data.get("results"), dict):
        raise ResultsError(f"{file}: not an lm-eval results file ('results' is "
                           f"{'missing' if 'results' not in data else type(data['results']).__name__}, not an object)")
    for key in ("config", "versions"):
        if not isinstance(data.get(key) or {}, dict):
            raise ResultsError(f"{file}: '{key}' is a {type(data[key]).__name__}, not an object; not an lm-eval "
                               "results file")
    return data


def results_files_by_model(path: Path) -> dict[Path, list[Path]]:
    """The results files under `path`, grouped by the folder holding them (lm-eval writes one folder per model
    under --output_path), oldest first."""
    if path.is_file():
        return {path.parent: [path]}
    groups: dict[Path, list[Path]] = {}
    for file in sorted(path.rglob("results_*.json"), key=lambda p: p.name):
        groups.setdefault(file.parent, []).append(file)
    return groups


def read_runs(path: Path) -> list[Run]:
    """One run per model folder under `path` (its newest results file), or the file `path` itself."""
    path = Path(path)
    groups = results_files_by_model(path)
    if not groups:
        raise ResultsError(f"{path}: no results_*.json (the folder lm_eval --output_path writes)")
    return [read_results(files, path if len(groups) == 1 else folder) for folder, files in sorted(groups.items())]


def read_run(path: Path, label: str | None = None) -> Run:
    """The run of `path`; a folder holding several models' runs is an error here (see `read_runs`)."""
    runs = read_runs(path)
    if len(runs) > 1:
        raise ResultsError(f"{path} holds {len(runs)} models' runs ({', '.join(str(r.path) for r in runs)})")
    if label:
        runs[0].label = label + runs[0].label[len(runs[0].base_label):]
        runs[0].base_label = label
    return runs[0]


def scored_limit(data: dict) -> int | None:
    """The largest number of documents scored in a task that scored fewer than it has (lm-eval's `n-samples`),
    else None: a run without its config still shows that it was cut."""
    counts = data.get("n-samples") if isinstance(data.get("n-samples"), dict) else {}
    cut = [c["effective"] for c in counts.values() if isinstance(c, dict)
           and isinstance(c.get("effective"), int) and isinstance(c.get("original"), int) and c["effective"] < c["original"]]
    return max(cut) if cut else None


def read_results(files: list[Path], path: Path) -> Run:
    newest = files[-1]
    data = load_results_file(newest)
    config = data.get("config") or {}
    limit = config.get("limit")
    if "limit" not in config:  # no config (`config: null`): what was scored says whether a limit cut the tasks
        limit = scored_limit(data)
    base = _default_label(data, path)
    run = Run(base + (f" (limit {limit:g})" if isinstance(limit, (int, float)) else ""), path, {}, base_label=base,
              limit=limit, results_file=newest)
    if len(files) > 1:
        run.warnings.append(f"{path}: {len(files)} results files, reading the newest ({newest.name})")
    if run.limit is not None:
        run.warnings.append(f"{run.label}: scored with --limit {limit:g} ({newest}), not on all 500 records of each "
                            "task; its numbers cannot be put beside the paper's, and it is left out of the plots")
    ours = sorted(t for t in data["results"] if Profile.base(t) in TASKS)
    profiles = {Profile.of_task(t) for t in ours}
    if len(profiles) > 1:
        raise ResultsError(f"{newest}: the run mixes the default and the release profile ({', '.join(ours)[:300]}); "
                           "score each profile in its own run")
    run.profile = profiles.pop() if profiles else Profile.DEFAULT
    versions = data.get("versions") or {}
    for task, values in data["results"].items():
        name = Profile.base(task)
        if name in TASKS and isinstance(values, dict):
            run.versions[name] = str(versions.get(task, "?"))
            task = name
            run.scores[task] = {}
            for metric in (*METRICS, INVALID):
                value = values.get(f"{metric},none")
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if not math.isfinite(value):
                    run.warnings.append(f"{run.label}: {task} {metric} is {value} in {newest}; shown as missing")
                    continue
                run.scores[task][metric] = float(value) * (100.0 if metric == INVALID else 1.0)
    found = sorted(set(run.versions.values()))
    run.label += f" [{run.profile} v{found[0]}]" if len(found) == 1 else f" [{run.profile}, versions {'/'.join(found)}]"
    for task in OFFICIAL:
        if task not in run.scores:
            run.warnings.append(f"{run.label}: task {task} is missing")
            continue
        missing = [m for m in expected_metrics(task, run.profile) if m not in run.scores[task]]
        if missing:
            run.warnings.append(f"{run.label}: {task} lacks {', '.join(missing)}")
    return run


def score(run: Run, task: str, metric: str) -> float | None:
    return run.scores.get(task, {}).get(metric)


def mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def group_mean(run: Run, tasks, metric: str) -> float | None:
    """The mean over the tasks that report the metric (lm-eval's group aggregation); None when none does."""
    return mean(score(run, t, metric) for t in tasks if metric in expected_metrics(t, run.profile))


def table4_columns(profile: Profile) -> list[tuple[str, list[str], str]]:
    """(heading, its tasks, metric) of each Table 4 column, for the paired bootstrap."""
    columns = [(f"Unseen Dataset {METRIC_NAMES[m]}", [t for t in UNSEEN_DATASET if m in expected_metrics(t, profile)], m)
               for m in METRICS]
    for name, task in (("Product Align", PRODUCT_ALIGN), ("Review Topic", REVIEW_TOPIC)):
        columns += [(f"{name} {METRIC_NAMES[m]}", [task], m) for m in METRICS]
    return columns + [("Product Select ROUGE-L", [PRODUCT_SELECT], "rouge_l")]


def bootstrap_lines(runs: list[Run], out: Path, resamples: int = 1000, seed: int = 0) -> list[str]:
    """Paired bootstrap intervals (95%) of A - B on the Table 4 columns for every pair of runs of one profile
    that logged samples (`--log_samples`); written to `bootstrap.md`, returned as lines to print."""
    from ecomgpt import mcnemar
    from ecomgpt.bootstrap import format_interval, paired_intervals

    samples = {run.label: run.samples() for run in runs}
    lines = []
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            if a.profile != b.profile or not samples[a.label] or not samples[b.label]:
                continue
            try:
                intervals = paired_intervals(samples[a.label], samples[b.label], table4_columns(a.profile), resamples,
                                             seed)
            except ValueError as error:
                lines.append(f"{a.label} - {b.label}: no interval ({error})")
                continue
            # McNemar's exact test on each classification task both runs logged (exact set match per document)
            tests = {task: mcnemar.between(samples[a.label][task], samples[b.label][task])
                     for task in OFFICIAL if TASKS[task].paradigm == "cls"
                     and task in samples[a.label] and task in samples[b.label]}
            single = {f"{name} micro-F1": task for name, task in (("Product Align", PRODUCT_ALIGN),
                                                                   ("Review Topic", REVIEW_TOPIC))}

            def with_test(heading: str) -> str:
                found = tests.get(single.get(heading, ""))
                return f" ({found.text()})" if found else ""

            if intervals:
                lines.append(f"{a.label} - {b.label}: " + "; ".join(
                    f"{heading.rsplit(' ', 1)[0]}: {format_interval(heading.rsplit(' ', 1)[1], *values)}"
                    f"{with_test(heading)}" for heading, values in intervals.items()))
            if any(tests.values()):
                lines.append(f"{a.label} - {b.label}, classification tasks: " + "; ".join(
                    f"{task}: {found.text()}" for task, found in tests.items() if found))
    if not lines:
        (out / "bootstrap.md").unlink(missing_ok=True)  # our own output of an earlier call: not current any more
    else:
        write_atomic(out / "bootstrap.md", "### Paired bootstrap, 95% intervals of A - B (1,000 resamples of each "
                     "task's documents, seed 0), and McNemar's exact test on classification tasks (a document is "
                     "right when its label set equals the gold set)\n\n" + "\n".join(f"- {line}" for line in lines) + "\n")
    return lines


def run_intervals(runs: list[Run], out: Path, resamples: int = 1000, seed: int = 0) -> dict[str, dict]:
    """For each run that logged samples: the 95% bootstrap interval (one run) of every task's metrics and of the
    Table 4 columns; written to `intervals.md`, returned as label -> heading -> (score, lower, upper)."""
    from ecomgpt.bootstrap import run_intervals as intervals_of

    found: dict[str, dict] = {}
    for run in runs:
        samples = run.samples()
        if not samples:
            continue
        columns = table4_columns(run.profile) + [
            (f"{task} {METRIC_NAMES[m]}", [task], m) for task in OFFICIAL for m in expected_metrics(task, run.profile)]
        found[run.label] = intervals_of(samples, columns, resamples, seed)
    if not found:
        (out / "intervals.md").unlink(missing_ok=True)  # our own output of an earlier call: not current any more
        return found
    lines = ["### 95% bootstrap intervals of each run (1,000 resamples of each task's documents, seed 0)", ""]
    for label, values in found.items():
        lines += [f"**{label}**", ""] + [f"- {heading}: {point:.2f} [{low:.2f}, {high:.2f}]"
                                        for heading, (point, low, high) in values.items()] + [""]
    write_atomic(out / "intervals.md", "\n".join(lines))
    return found


def table4_values(run: Run) -> list[float | None]:
    values = [group_mean(run, UNSEEN_DATASET, m) for m in METRICS]
    for task in (PRODUCT_ALIGN, REVIEW_TOPIC):
        values += [score(run, task, m) for m in METRICS]
    return values + [score(run, PRODUCT_SELECT, "rouge_l")]


def paradigm_values(run: Run) -> list[float | None]:
    def over(paradigms):
        return group_mean(run, [t for t in UNSEEN_DATASET if TASKS[t].paradigm in paradigms], "rouge_l")
    return [over({"cls"}), over({"ext"}), over({"gen"}), over({"ner"}), over({"gen", "ner"}),
            group_mean(run, UNSEEN_DATASET, "rouge_l")]


def language_values(run: Run) -> list[float | None]:
    return [group_mean(run, [t for t in UNSEEN_DATASET if TASKS[t].lang == lang], "rouge_l") for lang in ("en", "zh")] \
        + [group_mean(run, UNSEEN_DATASET, "rouge_l")]


def paper_rows(table: str) -> list[dict]:
    rows = {}
    with PAPER_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["table"] == table:
                rows.setdefault((row["model"], row["setting"]), {})[row["column"]] = float(row["value"])
    return [{"model": model, "setting": setting, **values} for (model, setting), values in rows.items()]


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list]  # first cells are text, then scores (None = gap)
    text_columns: int = 2

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)


def build_tables(runs: list[Run]) -> list[Table]:
    comparable = bool(runs) and all(run.profile is Profile.RELEASE for run in runs)

    def paper(row: dict) -> str:  # paper rows are comparable only with release-profile runs
        return f"paper, reported ({row['setting']})" + ("" if comparable else "; other metric definitions")

    table4 = Table("table4_unseen", "Table 4 layout: unseen datasets and the three unseen tasks",
                   ["model", "source"] + [heading for heading, _ in TABLE4],
                   [[r.label, "this run", *table4_values(r)] for r in runs])
    for row in paper_rows("4"):
        table4.rows.append([row["model"], paper(row),
                            *[row.get(column) for _, column in TABLE4]])

    task_names = OFFICIAL + [t for t in TASKS if t not in OFFICIAL and any(t in r.scores for r in runs)]
    # the invalid-answer rate (lower is better) under each task's scores, for runs made since it exists
    with_invalid = (INVALID,) if any(INVALID in r.scores.get(t, {}) for r in runs for t in r.scores) else ()
    tasks = Table("tasks", "Every task and metric (invalid (%): answers that cannot be used; lower is better)",
                  ["task", "metric"] + [r.label for r in runs],
                  [[t, METRIC_NAMES[m], *[score(r, t, m) for r in runs]] for t in task_names
                   for m in (*(METRICS if any(r.profile is Profile.RELEASE for r in runs) else expected_metrics(t)),
                             *with_invalid)])

    paradigm = Table("paradigm", "ROUGE-L by paradigm over the unseen datasets (Table 9 layout)",
                     ["model", "source"] + PARADIGM_COLUMNS, [[r.label, "this run", *paradigm_values(r)] for r in runs])
    for row in paper_rows("9"):
        paradigm.rows.append([row["model"], paper(row), row["rouge_l_cls"],
                              row["rouge_l_ext"], None, None, row["rouge_l_other"], row["rouge_l_all"]])

    language = Table("language", "ROUGE-L by test language over the unseen datasets (Table 10 layout)",
                     ["model", "source"] + LANGUAGE_COLUMNS, [[r.label, "this run", *language_values(r)] for r in runs])
    for row in paper_rows("10"):
        language.rows.append([row["model"], paper(row), row["rouge_l_test_en"],
                              row["rouge_l_test_zh"], row["rouge_l_test_en_zh"]])
    return [table4, tasks, paradigm, language]


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def markdown(table: Table) -> str:
    from tabulate import tabulate

    body = [[_fmt(v) for v in row] for row in table.rows]
    return tabulate(body, headers=table.columns, tablefmt="github", disable_numparse=True)


def latex(table: Table) -> str:
    frame = table.frame()
    scores = table.columns[table.text_columns:]
    return (frame.style.format("{:.2f}", subset=scores, na_rep="--").hide(axis="index")
            .to_latex(column_format="l" * table.text_columns + "r" * len(scores), hrules=True))


def write_tables(tables: list[Table], out: Path) -> None:
    for table in tables:
        write_atomic(out / f"{table.name}.md", f"### {table.title}\n\n{markdown(table)}\n")
        write_atomic(out / f"{table.name}.csv", table.frame().to_csv(index=False, float_format="%.2f", na_rep=""))
        write_atomic(out / f"{table.name}.tex", latex(table))


def bar_chart(runs: list[Run], paper_models: list[str] | None = None):
    """Table 4's columns as grouped bars, one colour per run (and per paper row named in `paper_models`, drawn
    outlined). A zero is a bar of height 0 with a "0" on it; a missing value is a hatched "n/a" box, never a gap
    that could be read as zero."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    headings = [heading for heading, _ in TABLE4]
    paper = {row["model"]: row for row in paper_rows("4")}
    unknown = [m for m in paper_models or [] if m not in paper]
    if unknown:
        raise ResultsError(f"--paper-models: no paper row {unknown}; known: {', '.join(paper)}")
    series = [(run.label, table4_values(run), {}) for run in runs]
    series += [(f"{m} (paper)", [paper[m].get(column) for _, column in TABLE4],
                {"fill": False, "hatch": ("..", "xx", "\\\\", "oo")[i % 4], "edgecolor": f"C{len(runs) + i}"})
               for i, m in enumerate(paper_models or [])]
    width = 0.8 / max(len(series), 1)
    figure, axis = plt.subplots(figsize=(14, 5))
    positions = np.arange(len(headings))
    top = max([v for _, values, _ in series for v in values if v is not None] + [10.0])
    for i, (label, values, style) in enumerate(series):
        x = positions + i * width - 0.4 + width / 2
        bars = axis.bar(x, [0.0 if v is None else v for v in values], width, label=label, **style)
        colour = bars.patches[0].get_facecolor() if style.get("fill", True) else bars.patches[0].get_edgecolor()
        for xi, value in zip(x, values):
            if value is None:
                axis.bar(xi, top * 0.04, width, fill=False, hatch="///", edgecolor="grey", linewidth=0.5)
                axis.text(xi, top * 0.045, "n/a", ha="center", va="bottom", fontsize=6, color="grey")
            elif value == 0:
                axis.text(xi, 0, "0", ha="center", va="bottom", fontsize=7, color=colour)
    axis.set_xticks(positions, [h.replace(" ", "\n", 1) for h in headings], fontsize=8)
    axis.set_ylabel("score (0-100)")
    axis.set_title("Table 4 columns per model ('0': a score of zero; hatched 'n/a': missing task or metric)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def scaling_charts(runs: list[Run]) -> dict[str, object]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for run in runs:
        match = SCALING_LABEL.match(run.base_label)
        value = group_mean(run, UNSEEN_DATASET, "rouge_l")
        if match and value is not None:
            curves.setdefault(match["axis"], {}).setdefault(match["name"], []).append((int(match["x"]), value))
    figures = {}
    for axis_name, lines in curves.items():
        figure, axis = plt.subplots(figsize=(6, 4))
        for name, points in sorted(lines.items()):
            points.sort()
            axis.plot([x for x, _ in points], [y for _, y in points], marker="o", label=name)
        axis.set_xlabel("number of training tasks" if axis_name == "tasks" else "instances per task")
        axis.set_ylabel("Unseen Dataset ROUGE-L")
        axis.set_title("Scaling (Figure 4)" if axis_name == "tasks" else "Scaling (Figure 5)")
        axis.legend()
        figure.tight_layout()
        figures[f"scaling_{axis_name}"] = figure
    return figures


def save_figure(figure, path: Path) -> None:
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    plt.close(figure)
    write_atomic(path, buffer.getvalue())


def make_results(run_dirs: list[Path], out: Path, labels: list[str] | None = None,
                 plot_limited: bool = False, paper_models: list[str] | None = None,
                 html: bool = False) -> tuple[list[Run], list[str]]:
    """Read the runs, write tables and plots into `out` (and `report.html` with `html`); returns the runs and
    the warnings."""
    labels = labels or []
    runs = [run for path in run_dirs for run in read_runs(path)]
    if labels and len(labels) != len(runs):
        raise ResultsError(f"{len(labels)} --label values for {len(runs)} runs "
                           f"({', '.join(str(r.path) for r in runs)}); give one per run, in this order, or none")
    for run, label in zip(runs, labels):
        run.label, run.base_label = label + run.label[len(run.base_label):], label
    seen: dict[str, Path] = {}
    for run in runs:
        if run.label in seen:
            raise ResultsError(f"two runs are labelled {run.label!r} ({seen[run.label]} and {run.path}); "
                               "use --label to tell them apart")
        seen[run.label] = run.path
    definitions = {(run.profile, tuple(sorted(set(run.versions.values())))) for run in runs}
    if len(definitions) > 1:
        warnings_first = ("runs scored under different definitions sit side by side (profile and task versions in "
                          "brackets after each label): " + ", ".join(run.label for run in runs))
    else:
        warnings_first = None
    out.mkdir(parents=True, exist_ok=True)
    tables = build_tables(runs)
    write_tables(tables, out)
    plotted = [run for run in runs if run.limit is None or plot_limited]
    warnings = ([warnings_first] if warnings_first else []) + [w for run in runs for w in run.warnings]
    intervals = bootstrap_lines(runs, out)
    own_intervals = run_intervals(runs, out)
    if plotted:
        save_figure(bar_chart(plotted, paper_models), out / "table4_bars.png")
        for name, figure in scaling_charts(plotted).items():
            save_figure(figure, out / f"{name}.png")
    else:
        warnings.append("no plot: every run used --limit (pass --plot-limited to plot them anyway)")
    # each run's Table 4 columns with their intervals, for results.md and the page
    own_lines = [f"{label}: " + "; ".join(f"{heading}: {p:.1f} [{lo:.1f}, {hi:.1f}]" for heading, (p, lo, hi)
                                          in values.items() if heading in dict(TABLE4))
                 for label, values in own_intervals.items()]
    summary = (["# Paired bootstrap (95%)", ""] + [f"- {line}" for line in intervals] + [""] if intervals else []) + (
        ["# Each run's 95% bootstrap intervals (Table 4 columns; every task in intervals.md)", ""]
        + [f"- {line}" for line in own_lines] + [""] if own_lines else []) + [
        "# Results", "", RELEASE_NOTE if all(r.profile is Profile.RELEASE for r in runs) else METRIC_NOTE, ""]
    if warnings:
        summary += ["**Warnings**", ""] + [f"- {w}" for w in warnings] + [""]
    summary += [f"### {t.title}\n\n{markdown(t)}\n" for t in tables]
    write_atomic(out / "results.md", "\n".join(summary))
    if html:
        from ecomgpt.report_page import render

        write_atomic(out / "report.html", render(runs, tables, own_lines, intervals, out))
    else:
        (out / "report.html").unlink(missing_ok=True)  # our own output of an earlier call: not current any more
    return runs, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecomgpt-results", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="lm-eval --output_path folders (or results_*.json files)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the tables and plots")
    parser.add_argument("--label", action="append", default=[], help="a label per run, in order (repeat)")
    parser.add_argument("--paper-models", type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
                        default=[], help='paper rows drawn as reference bars, e.g. "EcomGPT (7b1),ChatGPT"')
    parser.add_argument("--html", action="store_true",
                        help="also write report.html: one self-contained page with the tables, plots and a browser "
                             "of every document's answers (runs made with --log_samples)")
    parser.add_argument("--plot-limited", action="store_true",
                        help="also plot runs made with lm-eval --limit (they are always in the tables, marked)")
    args = parser.parse_args(argv)
    def work() -> int:
        runs, warnings = make_results(args.runs, args.out, args.label, args.plot_limited, args.paper_models, args.html)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print((args.out / "table4_unseen.md").read_text(encoding="utf-8"))
        if (args.out / "bootstrap.md").is_file():
            print((args.out / "bootstrap.md").read_text(encoding="utf-8"))
        plots = sorted(p.name for p in args.out.glob("*.png"))
        print(f"wrote {args.out}: {len(runs)} run(s) in results.md, tables as .md/.csv/.tex"
              + (f", {', '.join(plots)}" if plots else ", no plot (see the warnings)")
              + (f"; the page: {args.out / 'report.html'}" if args.html else ""))
        return 0

    return run_command("ecomgpt-results", work)


if __name__ == "__main__":
    sys.exit(main())
