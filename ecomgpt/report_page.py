"""`ecomgpt-results --html`: one self-contained page (`report.html`, no network) with the Table 4 layout and its
intervals, every task's scores, the plots (embedded), and a sample browser for runs made with `--log_samples`:
per task, each document's prompt, gold answer and every run's answer with its per-document score, filtered to
wrong answers, invalid ones or documents where the runs disagree, and searched by text. The page renders the
browser's rows lazily (a page of them at a time), so 6,000 documents × 4 runs stay quick.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from pathlib import Path

from ecomgpt.mcnemar import right_by_sets


def _answer(sample: dict) -> str:
    filtered = sample.get("filtered_resps")
    if isinstance(filtered, list) and filtered:
        first = filtered[0]
        return first[0] if isinstance(first, list) and first else str(first)
    resps = sample.get("resps") or [[""]]
    return resps[0][0] if isinstance(resps[0], list) and resps[0] else str(resps[0])


def _right(sample: dict) -> bool:
    """Right: the label / pair set equals the gold set where the task scores sets, else a full ROUGE-L."""
    by_sets = right_by_sets(sample)
    return by_sets if by_sets is not None else float(sample.get("rouge_l", 0.0)) >= 99.99


def browser_data(runs) -> dict:
    """Task -> documents, each with its prompt, gold answer and every run's answer, ROUGE-L, whether it is right
    and whether it is invalid; documents are matched across runs by (doc_id, doc_hash). None for a run that did
    not score the document."""
    per_run = [run.samples() for run in runs]
    tasks: dict[str, list[dict]] = {}
    for task in sorted({t for samples in per_run for t in samples}):
        order: dict[tuple, dict] = {}
        for index, samples in enumerate(per_run):
            for sample in samples.get(task, []):
                key = (sample["doc_id"], sample.get("doc_hash"))
                doc = sample.get("doc") or {}
                row = order.setdefault(key, {"id": sample["doc_id"], "prompt": doc.get("prompt", ""),
                                             "gold": str(sample.get("target", doc.get("target", ""))),
                                             "answers": [None] * len(runs)})
                row["answers"][index] = {"text": _answer(sample), "rouge": round(float(sample.get("rouge_l", 0.0)), 2),
                                         "right": _right(sample), "invalid": sample.get("invalid_rate") == 1}
        tasks[task] = list(order.values())
    return tasks


def _table_html(table) -> str:
    def cell(value) -> str:
        if value is None:
            return '<td class="missing">–</td>'
        if isinstance(value, float):
            return f'<td class="num">{value:.2f}</td>'
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in table.rows)
    return f"<h2>{html.escape(table.title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"></figure>'


def _list_html(title: str, lines: list[str]) -> str:
    return f"<h2>{html.escape(title)}</h2><ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def render(runs, tables, own_intervals: list[str], paired: list[str], out: Path) -> str:
    """The page's HTML: the tables rendered here, the samples as JSON for the page's script. `own_intervals` and
    `paired` are the lines `results.md` gives (each run's Table 4 intervals; the paired comparisons)."""
    sections = [_table_html(tables[0])]
    if own_intervals:
        sections.append(_list_html("95% bootstrap intervals of each run", own_intervals))
    if paired:
        sections.append(_list_html("Paired comparisons (95% bootstrap of A - B; McNemar on classification tasks)",
                                   paired))
    sections += [_image(path) for path in sorted(out.glob("*.png"))]
    sections += [_table_html(table) for table in tables[1:]]
    data = json.dumps({"runs": [run.label for run in runs], "tasks": browser_data(runs)},
                      ensure_ascii=False).replace("</", "<\\/")
    template = resources.files("ecomgpt").joinpath("report.html").read_text(encoding="utf-8")
    return (template.replace("__REPORT_TITLE__", html.escape("ecomgpt-results: " + ", ".join(r.label for r in runs)))
                    .replace("__REPORT_TABLES__", "\n".join(sections))
                    .replace("__REPORT_DATA__", data))
