"""`ecomgpt-data pseudo-label`: pseudo-labelled (`pseudo_cot`) atomic tasks from input-only records, and the
sources that merge them into a build (`ecomgpt-data build --pseudo DIR`).

A model (ChatGPT in the paper) writes the output for records that carry only an input: search queries ->
query rewriting and query segmentation, reviews -> a short summary, product titles -> selling points. Calls go
through `ecomgpt_core.openai_client.ChatRunner` (retries, answer cache, rate limits, usage); every output is kept
with the exact prompt and model that produced it. Off unless asked for; `--dry-run` prints the number of
calls and the estimated cost and spends nothing.

Output folder: `<task>.jsonl` per task (`{"sentences", "output", "prompt", "model", "record"}` per line),
`manifest.json` (tasks, model, base URL, counts, usage) - written when all answers are in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.atomic_tasks import TaskSpec
from ecomgpt_data.errors import BuildError
from ecomgpt_data.outputs import check_output, read_manifest
from ecomgpt_data.records import Malformed, Record
from ecomgpt_data.sampling import BoundedSample
from ecomgpt_core.files import published_dir
from ecomgpt_core.hashing import seeded_int
from ecomgpt_data.raw import locate_raw as resolve_raw_dir
from ecomgpt_core.openai_client import ChatRequest, ChatRunner, redact
from ecomgpt_data.sources import Source, load_sources

MAX_INPUT_CHARS = 500


@dataclass(frozen=True)
class PseudoTask:
    name: str
    source: str
    lang: str
    family: str
    description: tuple[str, str]
    labelling_prompt: str  # what the labelling model is asked, with {text}
    max_tokens: int
    data_type: str = ""  # only records of this data type


PSEUDO_TASKS = (
    PseudoTask("wands.query_rewriting", "wands_queries", "en", "query_rewriting", ("query rewriting", "查询改写"),
               "Rewrite the following e-commerce search query so that it is clearer and more specific while keeping "
               "the shopper's intent. Answer with the rewritten query only.\nQuery: {text}", 32),
    PseudoTask("wands.query_segmentation", "wands_queries", "en", "query_segmentation",
               ("query segmentation", "查询切分"),
               "Split the following e-commerce search query into its meaningful segments (product, attributes, "
               "modifiers), separated by ' | '. Answer with the segments only.\nQuery: {text}", 32),
    PseudoTask("online_shopping.review_summary", "online_shopping_10_cats", "zh", "review_summary",
               ("review summarisation", "评论摘要"), "用一句不超过20个字的话总结下面这条商品评论。只输出总结。\n评论：{text}", 48),
    PseudoTask("product_matching.selling_points", "product_matching_magellan", "en", "selling_points",
               ("selling point generation", "卖点生成"),
               "List three short selling points for the product with this title, separated by '; '. Answer with "
               "the selling points only.\nTitle: {text}", 64),
)


def pick_records(source: Source, root: Path, tasks: list[PseudoTask], per_task: int, seed: int) -> dict[str, list[Record]]:
    """Per task, the `per_task` records with the smallest seeded priority, one per distinct text."""
    samples = {t.name: BoundedSample(per_task) for t in tasks}
    for item in source.read(root):
        if isinstance(item, Malformed):
            raise BuildError(f"{root / item.origin}: {item.reason}")
        if not isinstance(item, Record) or not item.text or len(item.text) > MAX_INPUT_CHARS:
            continue
        for task in tasks:
            priority = seeded_int(seed, "pseudo", task.name, item.text)
            if samples[task.name].verdict(priority, item.text) is None:
                samples[task.name].add(priority, item.id, item.text, item)
    return {name: sample.items() for name, sample in samples.items()}


def pseudo_label(out: Path, model: str, raw_dir: str | None = None, tasks: list[str] | None = None,
                 per_task: int = 100, seed: int = 42, dry_run: bool = False, base_url: str | None = None,
                 **runner_options) -> dict:
    if per_task < 1:
        raise BuildError(f"--per-task {per_task}: give at least 1 record per task")
    chosen = [t for t in PSEUDO_TASKS if not tasks or t.name in tasks]
    unknown = set(tasks or []) - {t.name for t in PSEUDO_TASKS}
    if unknown:
        raise BuildError(f"unknown pseudo task(s) {sorted(unknown)}; known: {[t.name for t in PSEUDO_TASKS]}")
    raw = resolve_raw_dir(raw_dir)
    if not dry_run:  # before any paid call: a rerun may replace its own output, nothing else
        check_output(Path(out), str(raw), None, True, is_pseudo_folder, "ecomgpt-data pseudo-label")
    registry = load_sources()
    picked: dict[str, list[Record]] = {}
    for source_name in sorted({t.source for t in chosen}):
        source = registry[source_name]
        picked.update(pick_records(source, Path(raw) / source.folder, [t for t in chosen if t.source == source_name],
                                   per_task, seed))
    requests, owners = [], []
    for task in chosen:
        for record in picked[task.name]:
            prompt = task.labelling_prompt.format(text=record.text)
            requests.append(ChatRequest([{"role": "user", "content": prompt}], task.max_tokens, [], task.name))
            owners.append((task, record, prompt))
    runner = ChatRunner(model, base_url, dry_run=dry_run, **runner_options)
    if dry_run:
        return {"dry_run": True, "model": model, **runner.dry_run(requests),
                "per_task": {t.name: len(picked[t.name]) for t in chosen}}
    answers = runner.run(requests, desc="pseudo-label")

    out = Path(out)
    lines: dict[str, list[str]] = {t.name: [] for t in chosen}
    empty = {t.name: 0 for t in chosen}
    for (task, record, prompt), answer in zip(owners, answers, strict=True):
        if not answer.strip():
            empty[task.name] += 1  # counted in the manifest; an empty output teaches nothing
            continue
        lines[task.name].append(json.dumps({"sentences": record.text, "output": answer.strip(), "prompt": prompt,
                                            "model": model, "record": f"{task.source}/{record.id}"}, ensure_ascii=False))
    manifest = {"model": model, "base_url": redact(runner.base_url), "seed": seed, "per_task": per_task, "tasks": {}}
    for task in chosen:
        manifest["tasks"][task.name] = {"source": task.source, "lang": task.lang, "family": task.family,
                                        "description": list(task.description), "file": f"{task.name}.jsonl",
                                        "instances": len(lines[task.name]), "empty_answers": empty[task.name]}
    manifest["usage"] = runner.usage_report()
    with published_dir(out, replace=True) as staging:
        for task in chosen:
            (staging / f"{task.name}.jsonl").write_text("".join(line + "\n" for line in lines[task.name]),
                                                        encoding="utf-8")
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
    return manifest


def is_pseudo_folder(path: Path) -> bool:
    """Whether `path` holds a `pseudo-label` output (its manifest names the model and the tasks)."""
    return {"model", "tasks", "per_task"} <= read_manifest(path).keys()


def pseudo_sources(folder: Path) -> list[Source]:
    """One source per pseudo-labelled task of a `pseudo-label` folder, named `<origin source>.pseudo.<task>`
    and derived from the origin source (so `--drop-source <origin>` drops it too)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BuildError(f"--pseudo {folder}: no readable manifest.json ({error})") from None
    sources = []
    for name, info in manifest["tasks"].items():
        path = folder / info["file"]
        source_name = f"{info['source']}.pseudo.{name}"

        def read(_root, path=path, source_name=source_name, lang=info["lang"]):
            with path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    try:
                        item = json.loads(line)
                        text, output = item["sentences"], item["output"]
                        if not isinstance(text, str) or not isinstance(output, str):
                            raise TypeError("sentences and output must be strings")
                    except (json.JSONDecodeError, KeyError, TypeError) as error:
                        yield Malformed(f"{path.name}:{number}", f"{type(error).__name__}: {error}")
                        continue
                    yield Record(source_name, f"{path.name}:{number}", lang, "text", text, target=output)

        task = TaskSpec(name, source=source_name, paradigm="GEN", lang=info["lang"], strategy="pseudo_label",
                        family=info["family"], description=tuple(info["description"]), build=at.text_to_target(),
                        cot_kind="pseudo_cot")
        sources.append(Source(name=source_name, lang=info["lang"], folder="", files=lambda _root, p=path: [p],
                              read=read, tasks=(task,), derived_from=(info["source"],)))
    return sources
