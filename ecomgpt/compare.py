"""`ecomgpt-compare`: the paper's head-to-head comparison (Figure 3) made repeatable.

- `prepare RUN_A RUN_B --out STUDY`: a seeded sample of documents per task from two lm-eval runs made with
  `--log_samples`, each item's two outputs in a random left/right order, written as `items.jsonl` (no model
  names), `annotate.html` (a self-contained annotation page) and `key.json` (which side is which, kept apart).
- `judge STUDY --model M`: an LLM judge through the project's OpenAI client (cache, limits, cost, redaction),
  each item judged in both orders; a verdict that flips with the order is a tie. Written in the same CSV format
  as a person's annotations.
- `report STUDY [ANNOTATIONS.csv ...] --out DIR`: win / tie / lose per task and overall with a 95% Wilson
  interval of the win-or-tie rate, Figure 3's stacked bars, the Pearson correlation between the per-task
  win-or-tie rate and ROUGE-L difference, and chance-corrected agreement (Cohen's κ for two annotators,
  Fleiss' κ for more, and judge–human).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import io
import json
import random
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from ecom_tasks.prompts import PROMPT_HEAD
from ecomgpt.bootstrap import read_samples
from ecomgpt.results import ResultsError, read_run, save_figure
from ecomgpt_core.errors import EcomGPTError, run_command
from ecomgpt_core.files import published_dir, write_atomic
from ecomgpt_core.options import add_per_task, add_runner_options, add_seed, runner_options
from ecomgpt_core.hashing import seeded_int
from ecomgpt_core.openai_client import cost_text

CHOICES = ("left", "right", "tie")
UNJUDGED = "unjudged"  # a judge's answer that could not be read as a verdict: counted, never scored as a tie
MAX_UNJUDGED = 0.10  # report refuses a study with more unjudged judgements than this share, unless accepted
CSV_COLUMNS = ("study_id", "item_id", "annotator", "choice", "note", "seconds")
JUDGE_PREFIX = "judge:"
HEAD = re.compile(re.escape(PROMPT_HEAD).replace(r"\{defi\}", "(?P<defi>.*?)"), re.S)


class CompareError(EcomGPTError):
    pass


# --- prepare ---------------------------------------------------------------------------------------------------

def _output(sample: dict) -> str:
    responses = sample.get("filtered_resps") or sample.get("resps") or [""]
    while isinstance(responses, list):
        responses = responses[0] if responses else ""
    return str(responses).strip()


def _instruction(prompt: str) -> tuple[str, str]:
    """(the task description from the prompt's head, the prompt's input part: without the head and the
    `### Instruction:` / `### Response:` markers)."""
    match = HEAD.match(prompt)
    defi, rest = (match["defi"], prompt[match.end():]) if match else ("", prompt)
    return defi, rest.removeprefix("### Instruction:\n").removesuffix("### Response:").strip()


def run_samples(path: Path) -> tuple[str, dict[str, list[dict]], dict[str, float], Path]:
    """(label, task -> samples, task -> ROUGE-L of every task the run scored, results file) of one lm-eval run
    folder or results file."""
    try:
        run = read_run(Path(path))
    except ResultsError as error:
        raise CompareError(str(error)) from None
    samples = read_samples(run.results_file)
    if not samples:
        raise CompareError(f"{run.results_file}: no samples_*.jsonl beside it; run lm_eval with --log_samples")
    rouge = {task: scores.get("rouge_l") for task, scores in run.scores.items()}
    return run.base_label, samples, rouge, run.results_file


def study_id(items: list[dict]) -> str:
    digest = hashlib.sha256("\n".join(f"{i['id']}\x1f{i['output_1']}\x1f{i['output_2']}" for i in items).encode())
    return digest.hexdigest()[:16]


def prepare(run_a: Path, run_b: Path, out: Path, per_task: int = 100, seed: int = 0,
            tasks: list[str] | None = None, overwrite: bool = False) -> dict:
    out = Path(out)
    if out.exists() and not overwrite:  # before the runs are read
        raise CompareError(f"{out} exists; pass --overwrite to replace it")
    if out.exists() and not (out / "study.json").is_file():
        raise CompareError(f"--overwrite replaces only a study folder; {out} is not one")
    label_a, samples_a, rouge_a, file_a = run_samples(run_a)
    label_b, samples_b, rouge_b, file_b = run_samples(run_b)
    if file_a.resolve() == file_b.resolve():
        raise CompareError(f"{run_a} and {run_b} are the same run ({file_a}); compare two different runs")
    wanted = set(rouge_a) & set(rouge_b) & (set(tasks) if tasks else set(rouge_a))  # scored in both runs
    for samples, file in ((samples_a, file_a), (samples_b, file_b)):
        lacking = sorted(wanted - set(samples))
        if lacking:  # scored, but its samples file is gone: never dropped from the study unseen
            raise CompareError(f"{file}: no samples file beside it for {', '.join(lacking)}, which both runs "
                               "scored; restore it, or leave the task out with --tasks")
    common = sorted(set(samples_a) & set(samples_b))
    if tasks:
        unknown = [t for t in tasks if t not in common]
        if unknown:
            raise CompareError(f"--tasks {', '.join(unknown)}: not scored with samples in both runs (both have: "
                               f"{', '.join(common) or 'none'})")
        common = tasks
    if not common:
        raise CompareError(f"the runs share no task with samples ({', '.join(samples_a)} vs {', '.join(samples_b)})")
    items, key, identical = [], {}, 0
    for task in common:
        a = {s["doc_id"]: s for s in samples_a[task]}
        b = {s["doc_id"]: s for s in samples_b[task]}
        if sorted(a) != sorted(b) or any(_prompt(a[d]) != _prompt(b[d]) for d in a):
            raise CompareError(f"{task}: the two runs did not score the same documents (different doc ids or "
                               "prompts); compare runs of the same task version and --limit")
        chosen = sorted(random.Random(seeded_int(seed, "compare", task)).sample(sorted(a), min(per_task, len(a))))
        for doc_id in chosen:
            defi, instruction = _instruction(_prompt(a[doc_id]))
            out_a, out_b = _output(a[doc_id]), _output(b[doc_id])
            a_left = seeded_int(seed, "side", task, doc_id) % 2 == 0
            item = {"id": f"{task}-{doc_id}", "task": task, "task_description": defi, "input": instruction,
                    "reference": str(a[doc_id].get("target", "")),
                    "output_1": out_a if a_left else out_b, "output_2": out_b if a_left else out_a,
                    "identical": out_a == out_b}
            identical += item["identical"]
            items.append(item)
            key[item["id"]] = "A" if a_left else "B"
    sid = study_id(items)
    study = {"study_id": sid, "tasks": common, "items": len(items), "identical_outputs": identical,
             "per_task": per_task, "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    # The seed stays with the key: with it and the public code, anyone could recompute every item's sides.
    secret = {"study_id": sid, "seed": seed, "A": {"label": label_a, "path": str(run_a)}, "B": {"label": label_b, "path": str(run_b)},
              "left": key, "rouge_l": {t: [rouge_a.get(t), rouge_b.get(t)] for t in common}}
    with published_dir(out, replace=overwrite) as staging:
        (staging / "items.jsonl").write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items),
                                             encoding="utf-8")
        (staging / "study.json").write_text(json.dumps(study, indent=2) + "\n", encoding="utf-8")
        (staging / "key.json").write_text(json.dumps(secret, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (staging / "annotate.html").write_text(annotation_page(study, items), encoding="utf-8")
    return study


def _prompt(sample: dict) -> str:
    doc = sample.get("doc") or {}
    if "prompt" in doc:
        return doc["prompt"]
    arguments = sample.get("arguments") or {}
    first = arguments.get("gen_args_0", arguments) if isinstance(arguments, dict) else arguments
    return str(first.get("arg_0", "")) if isinstance(first, dict) else str(first)


def annotation_page(study: dict, items: list[dict]) -> str:
    """The self-contained page: the template with the study and its items embedded as JSON (no key)."""
    template = resources.files("ecomgpt").joinpath("annotate.html").read_text(encoding="utf-8")
    data = json.dumps({"study": study, "items": items}, ensure_ascii=False).replace("</", "<\\/")
    return template.replace("__STUDY_TITLE__", html.escape(f"ecomgpt-compare study {study['study_id']}")) \
                   .replace("__STUDY_DATA__", data)


# --- annotations -----------------------------------------------------------------------------------------------

def read_study(folder: Path) -> tuple[dict, list[dict], dict]:
    folder = Path(folder)
    for name in ("study.json", "items.jsonl", "key.json"):
        if not (folder / name).is_file():
            raise CompareError(f"{folder}: no {name}; pass a folder written by `ecomgpt-compare prepare`")
    study = json.loads((folder / "study.json").read_text(encoding="utf-8"))
    items = [json.loads(line) for line in (folder / "items.jsonl").read_text(encoding="utf-8").splitlines() if line]
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    return study, items, key


def read_annotations(path: Path, study: dict, items: list[dict]) -> tuple[str, dict[str, str]]:
    """(annotator, item id -> choice) of one CSV, after checking it belongs to the study and covers it."""
    path = Path(path)
    known = {i["id"] for i in items}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CompareError(f"{path}: cannot be read ({error})") from None
    rows = csv.DictReader(io.StringIO(text))
    if rows.fieldnames is None or not set(CSV_COLUMNS[:4]) <= set(rows.fieldnames):
        raise CompareError(f"{path}: expected the columns {', '.join(CSV_COLUMNS)}, got {rows.fieldnames}")
    choices: dict[str, str] = {}
    annotators = set()
    for row in rows:
        where = f"{path}:{rows.line_num}"
        if row["study_id"] != study["study_id"]:
            raise CompareError(f"{where}: study {row['study_id']!r}, not this study's {study['study_id']!r}; the CSV "
                               "belongs to another study")
        if row["item_id"] not in known:
            raise CompareError(f"{where}: unknown item id {row['item_id']!r}")
        if row["item_id"] in choices:
            raise CompareError(f"{where}: item {row['item_id']!r} a second time")
        judged_by_model = row["annotator"].startswith(JUDGE_PREFIX)
        if row["choice"] not in CHOICES and not (judged_by_model and row["choice"] == UNJUDGED):
            raise CompareError(f"{where}: choice {row['choice']!r} is not one of {', '.join(CHOICES)}"
                               + (f" or {UNJUDGED}" if judged_by_model else ""))
        annotators.add(row["annotator"])
        choices[row["item_id"]] = row["choice"]
    if len(annotators) != 1:
        raise CompareError(f"{path}: expected one annotator, found {sorted(annotators) or 'none'}")
    missing = [i["id"] for i in items if i["id"] not in choices]
    if missing:
        raise CompareError(f"{path}: {len(missing)} of {len(items)} items have no choice (first: {missing[0]}); "
                           "finish them in the page and export again")
    return annotators.pop(), choices


def csv_text(study_id_: str, annotator: str, rows: list[tuple[str, str, str, float]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item_id, choice, note, seconds in rows:
        writer.writerow([study_id_, item_id, annotator, choice, note, f"{seconds:.1f}"])
    return buffer.getvalue()


# --- the judge -------------------------------------------------------------------------------------------------

JUDGE_PROMPT = """You compare two answers to an e-commerce task: {task}.

Input:
{input}

Reference answer:
{reference}

Answer 1:
{first}

Answer 2:
{second}

Which answer is better, judged against the task and the reference? Reply with one word: 1, 2 or tie."""


VERBOSE_VERDICT = re.compile(r"\b(?:answer|output|response)\s*#?\s*([12])\b")


def parse_verdict(answer: str) -> str | None:
    """"1", "2" or "tie" from a judge's answer; None when it cannot be read as one. Beside the bare word asked for,
    the common verbose forms whose meaning is unambiguous: "Answer 1 is better", "Output 2", "It's a tie". An
    answer that names both ("Answer 1 is better than answer 2") is not guessed at: None, counted as unjudged."""
    text = answer.lower().strip()
    match = re.match(r"\W*(1|2|tie)\b", text)
    if match:
        return match[1]
    named = set(VERBOSE_VERDICT.findall(text))
    tie = re.search(r"\b(?:tie|equally good|equal)\b", text) is not None
    if len(named) == 1 and not tie:
        return named.pop()
    if tie and not named:
        return "tie"
    return None


def judge(folder: Path, model: str, base_url: str | None = None, dry_run: bool = False, **runner_options) -> dict:
    from ecomgpt_core.openai_client import ChatRequest, ChatRunner

    study, items, _ = read_study(folder)
    requests, asked = [], []
    for item in items:
        if item["identical"]:
            continue
        for order in ((item["output_1"], item["output_2"]), (item["output_2"], item["output_1"])):
            prompt = JUDGE_PROMPT.format(task=item["task_description"] or item["task"], input=item["input"],
                                         reference=item["reference"], first=order[0], second=order[1])
            requests.append(ChatRequest([{"role": "user", "content": prompt}], 4, [], item["task"]))
        asked.append(item)
    runner = ChatRunner(model, base_url, dry_run=dry_run, **runner_options)
    if dry_run:
        return {"dry_run": True, "model": model, "items": len(items), "identical": len(items) - len(asked),
                **runner.dry_run(requests)}
    answers = iter(runner.run(requests, desc="judge"))
    rows, flipped, unparsable = [], 0, 0
    verdicts = {}
    for item in asked:
        raw = (next(answers), next(answers))
        first, second = parse_verdict(raw[0]), parse_verdict(raw[1])
        unparsable += (first is None) + (second is None)
        # The second request shows the outputs swapped: its "1" is the right-hand output.
        second = {"1": "2", "2": "1"}.get(second, second)
        if first is None or second is None:
            shown = " / ".join(repr(r[:60]) for r, v in zip(raw, (first, second)) if v is None)
            verdicts[item["id"]] = (UNJUDGED, f"unparsable answer: {shown}")
        elif first == second and first != "tie":
            verdicts[item["id"]] = ("left" if first == "1" else "right", "the same in both orders")
        else:
            flipped += first != second
            verdicts[item["id"]] = ("tie", "tie in both orders" if first == second else
                                    f"order-dependent ({first} then {second}): a tie")
    for item in items:
        choice, note = verdicts.get(item["id"], ("tie", "identical outputs"))
        rows.append((item["id"], choice, note, 0.0))
    annotator = f"{JUDGE_PREFIX}{model}"
    path = Path(folder) / f"annotations_{re.sub(r'[^A-Za-z0-9._-]+', '_', annotator)}.csv"
    write_atomic(path, csv_text(study["study_id"], annotator, rows))
    usage = runner.write_usage(Path(folder) / f"judge_usage_{re.sub(r'[^A-Za-z0-9._-]+', '_', model)}.json")
    report = runner.usage_report()
    return {"annotations": str(path), "usage": str(usage), "items": len(items), "judged": len(asked),
            "order_dependent": flipped, "unparsable": unparsable, "calls": report["calls"], "cached": report["cached"],
            "cost_usd": report["cost_usd"]}


# --- report ----------------------------------------------------------------------------------------------------

def wilson(successes: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def outcomes_for_a(choices: dict[str, str], left: dict[str, str]) -> dict[str, str]:
    """item id -> "win" / "tie" / "lose" for model A."""
    out = {}
    for item_id, choice in choices.items():
        if choice == UNJUDGED:
            continue  # no verdict: left out of win / tie / lose, counted by tally
        if choice == "tie":
            out[item_id] = "tie"
        else:
            chosen = left[item_id] if choice == "left" else ("B" if left[item_id] == "A" else "A")
            out[item_id] = "win" if chosen == "A" else "lose"
    return out


def tally(outcomes: list[dict[str, str]], ids: list[str]) -> dict:
    counts = Counter(o[i] for o in outcomes for i in ids if i in o)
    n = sum(counts.values())
    wins_or_ties = counts["win"] + counts["tie"]
    low, high = wilson(wins_or_ties, n)
    return {"win": counts["win"], "tie": counts["tie"], "lose": counts["lose"], "n": n,
            "unjudged": sum(i not in o for o in outcomes for i in ids),
            "win_or_tie": wins_or_ties / n if n else float("nan"), "wilson_low": low, "wilson_high": high}


def agreement(choices: list[dict[str, str]], ids: list[str]) -> float | None:
    """Cohen's κ for two annotators, Fleiss' κ for more, over `ids` (None when undefined)."""
    import numpy as np

    ids = [i for i in ids if all(c[i] != UNJUDGED for c in choices)]  # items every annotator gave a verdict on
    if len(choices) < 2 or not ids:
        return None
    if len(choices) == 2:
        from sklearn.metrics import cohen_kappa_score

        a, b = [choices[0][i] for i in ids], [choices[1][i] for i in ids]
        if len(set(a) | set(b)) < 2:
            return None
        value = cohen_kappa_score(a, b, labels=list(CHOICES))
        return None if np.isnan(value) else float(value)
    from statsmodels.stats.inter_rater import fleiss_kappa

    table = np.array([[sum(c[i] == choice for c in choices) for choice in CHOICES] for i in ids])
    if (table.sum(axis=0) > 0).sum() < 2:
        return None
    value = fleiss_kappa(table, method="fleiss")
    return None if np.isnan(value) else float(value)


def pearson(xs: list[float], ys: list[float]) -> float | None:
    from scipy.stats import pearsonr

    pairs = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
    if len(pairs) < 3 or len({x for x, _ in pairs}) < 2 or len({y for _, y in pairs}) < 2:
        return None
    return float(pearsonr([x for x, _ in pairs], [y for _, y in pairs]).statistic)


def figure3(rows: list[tuple[str, dict]], label_a: str, label_b: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def short(label: str) -> str:
        return label if len(label) <= 40 else "…" + label[-39:]

    figure, axis = plt.subplots(figsize=(9, 0.45 * len(rows) + 2.2))
    names = [name for name, _ in rows]
    left = [0.0] * len(rows)
    for outcome, colour, text in (("win", "#4c72b0", f"A better ({short(label_a)})"), ("tie", "#bbbbbb", "tie"),
                                  ("lose", "#dd8452", f"B better ({short(label_b)})")):
        widths = [100 * t[outcome] / t["n"] if t["n"] else 0 for _, t in rows]
        axis.barh(names, widths, left=left, color=colour, label=text)
        for y, (x0, w) in enumerate(zip(left, widths)):
            if w >= 6:
                axis.text(x0 + w / 2, y, f"{w:.0f}", ha="center", va="center", fontsize=7)
        left = [a + b for a, b in zip(left, widths)]
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel("% of judgements")
    axis.set_title("Head to head: A wins / ties / loses per task (the paper's Figure 3 layout)", fontsize=10)
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14 * 5 / max(len(rows), 5)), ncol=3,
                frameon=False)
    figure.tight_layout()
    return figure


def report(folder: Path, annotation_files: list[Path], out: Path, accept_unjudged: bool = False) -> dict:
    if Path(out).exists() and not Path(out).is_dir():
        raise CompareError(f"--out {out} is a file; give a folder for report.md, report.json and figure3.png")
    study, items, key = read_study(folder)
    files = list(annotation_files) or sorted(Path(folder).glob("annotations_*.csv"))
    if not files:
        raise CompareError(f"no annotations: give CSVs exported from the page, or run `ecomgpt-compare judge` "
                           f"(none in {folder})")
    annotators: dict[str, dict[str, str]] = {}
    for path in files:
        name, choices = read_annotations(path, study, items)
        if name in annotators:
            raise CompareError(f"{path}: annotator {name!r} comes twice")
        annotators[name] = choices
    humans = {n: c for n, c in annotators.items() if not n.startswith(JUDGE_PREFIX)}
    judges = {n: c for n, c in annotators.items() if n.startswith(JUDGE_PREFIX)}
    primary = humans or judges
    label_a, label_b = key["A"]["label"], key["B"]["label"]
    by_task = defaultdict(list)
    for item in items:
        by_task[item["task"]].append(item["id"])
    all_ids = [i["id"] for i in items]
    outcomes = [outcomes_for_a(c, key["left"]) for c in primary.values()]
    tasks = {task: tally(outcomes, ids) for task, ids in by_task.items()}
    overall = tally(outcomes, all_ids)
    total = overall["n"] + overall["unjudged"]
    if total and overall["unjudged"] / total > MAX_UNJUDGED and not accept_unjudged:
        raise CompareError(f"{overall['unjudged']} of {total} judgements ({overall['unjudged'] / total:.0%}) could not "
                           f"be read as a verdict (more than {MAX_UNJUDGED:.0%}); the notes in the judge's CSV show "
                           "its answers. Use another judge, or pass --accept-unjudged to report the rest")
    differences = {t: (a - b if a is not None and b is not None else None) for t, (a, b) in key["rouge_l"].items()}
    correlation = pearson([tasks[t]["win_or_tie"] for t in tasks], [differences.get(t) for t in tasks])
    kappa = {"overall": agreement(list(humans.values()), all_ids),
             "tasks": {t: agreement(list(humans.values()), ids) for t, ids in by_task.items()}}
    judge_human = {f"{j} vs {h}": agreement([jc, hc], all_ids) for j, jc in judges.items() for h, hc in humans.items()}
    result = {"study_id": study["study_id"], "A": label_a, "B": label_b, "annotators": sorted(annotators),
              "scored_by": "people" if humans else "judge", "tasks": tasks, "overall": overall,
              "pearson_win_or_tie_vs_rouge_l_difference": correlation, "rouge_l_difference": differences,
              "agreement": {"kind": "Cohen's kappa" if len(humans) == 2 else "Fleiss' kappa" if len(humans) > 2 else None,
                            **kappa, "judge_vs_human": judge_human},
              "identical_outputs": study["identical_outputs"]}
    out = Path(out)
    write_atomic(out / "report.json", json.dumps(result, indent=2) + "\n")
    write_atomic(out / "report.md", report_markdown(result))
    save_figure(figure3([*tasks.items(), ("overall", overall)], label_a, label_b), out / "figure3.png")
    return result


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def report_markdown(r: dict) -> str:
    lines = [f"# Head to head: A = {r['A']}, B = {r['B']}", "",
             f"Study {r['study_id']}; scored by {r['scored_by']} ({', '.join(r['annotators'])}); "
             f"{r['identical_outputs']} items had identical outputs (pre-marked ties).", "",
             "| task | A wins | tie | A loses | n | unjudged | win-or-tie rate | 95% Wilson interval | ROUGE-L A − B |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for name, t in [*r["tasks"].items(), ("**overall**", r["overall"])]:
        diff = r["rouge_l_difference"].get(name)
        lines.append(f"| {name} | {t['win']} | {t['tie']} | {t['lose']} | {t['n']} | {t['unjudged']} | "
                     f"{_fmt(t['win_or_tie'])} | "
                     f"[{_fmt(t['wilson_low'])}, {_fmt(t['wilson_high'])}] | {_fmt(diff, 1) if diff is not None else ''} |")
    agreement_ = r["agreement"]
    if r["overall"]["unjudged"]:
        lines += ["", f"{r['overall']['unjudged']} judgements could not be read as a verdict (unjudged): left out of "
                      "win / tie / lose and of n."]
    lines += ["", f"Pearson correlation of the per-task win-or-tie rate with the ROUGE-L difference: "
                  f"{_fmt(r['pearson_win_or_tie_vs_rouge_l_difference'])} (the paper reports 0.2).", ""]
    if agreement_["kind"]:
        lines.append(f"Agreement between the people ({agreement_['kind']}): overall {_fmt(agreement_['overall'])}; "
                     + ", ".join(f"{t} {_fmt(v)}" for t, v in agreement_["tasks"].items()) + ".")
    for pair, value in agreement_["judge_vs_human"].items():
        lines.append(f"Agreement {pair} (Cohen's kappa): {_fmt(value)}.")
    return "\n".join(lines) + "\n"


# --- command line ----------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecomgpt-compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="sample items from two runs and write the annotation page")
    p.add_argument("run_a", type=Path, help="an lm-eval output folder (or results file) made with --log_samples")
    p.add_argument("run_b", type=Path)
    p.add_argument("--out", type=Path, required=True, help="the study folder")
    add_per_task(p, 100, "items per task (paper: 100)")
    add_seed(p, 0, "the seed of the draw and of each item's sides")
    p.add_argument("--tasks", default="", help="comma-separated tasks (default: every task both runs scored)")
    p.add_argument("--overwrite", action="store_true")
    j = commands.add_parser("judge", help="an LLM judge, both orders per item, same CSV as a person's")
    j.add_argument("study", type=Path)
    j.add_argument("--model", required=True)
    j.add_argument("--base_url", "--base-url", dest="base_url", help="an OpenAI-compatible server (default: OpenAI)")
    j.add_argument("--dry-run", action="store_true", help="print the number of calls and the estimated cost")
    add_runner_options(j)
    r = commands.add_parser("report", help="win / tie / lose, Figure 3, correlation and agreement")
    r.add_argument("study", type=Path)
    r.add_argument("annotations", nargs="*", type=Path, help="CSVs from the page or the judge (default: the "
                                                             "study folder's annotations_*.csv)")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--accept-unjudged", action="store_true",
                   help=f"report even when more than {MAX_UNJUDGED:.0%} of a judge's answers could not be read")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "prepare":
        study = prepare(args.run_a, args.run_b, args.out, args.per_task, args.seed,
                        [t.strip() for t in args.tasks.split(",") if t.strip()], args.overwrite)
        print(f"wrote {args.out}: {study['items']} items from {len(study['tasks'])} tasks "
              f"({study['identical_outputs']} with identical outputs, pre-marked ties); open "
              f"{args.out / 'annotate.html'} in a browser; the A/B key is in {args.out / 'key.json'} (keep it from "
              "annotators)")
        if study["items"] and study["identical_outputs"] == study["items"]:
            print("warning: the two runs gave the same output for every item, so every item is a tie; are they "
                  "the same model?", file=sys.stderr)
    elif args.command == "judge":
        result = judge(args.study, args.model, args.base_url, args.dry_run, **runner_options(args))
        if args.dry_run:
                print(f"dry run: {result['calls']} calls for {result['items'] - result['identical']} items (two orders "
                  f"each; {result['identical']} identical pairs need none; cached answers are free), about "
                  f"{result['prompt_tokens_estimate']:,} prompt tokens; estimated cost "
                  + cost_text(result["cost_usd_estimate"]))
        else:
            print(f"wrote {result['annotations']}: {result['judged']} items judged in both orders, "
                  f"{result['order_dependent']} order-dependent (ties), {result['unparsable']} unparsable answers; "
                  f"{result['calls']} calls, {result['cached']} cached; usage in {result['usage']}")
    else:
        result = report(args.study, args.annotations, args.out, args.accept_unjudged)
        print(report_markdown(result))
        print(f"wrote {args.out}/report.md, report.json and figure3.png")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command("ecomgpt-compare", lambda: _run(args))


if __name__ == "__main__":
    sys.exit(main())
