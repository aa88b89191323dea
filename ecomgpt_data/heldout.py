"""The SFT upper bound's training data: per held-out task, its own public training split as that task's
evaluation prompts (`ecomgpt-data heldout-train`).

The paper's Table 4 row "SFT (7b1)" fine-tunes BLOOMZ-7b1 on 800 training instances of each held-out task. Each
instance here is the evaluation prompt exactly as the eval task renders it (`ecom_tasks.prompts.build_doc`:
same head, instruction and candidate draw) with the gold target as the response, so the model learns the
evaluation format. The public training splits (`heldout_files.json`: fetched by `ecomgpt-data fetch --heldout`
into the per-user cache, or found through --heldout-dir / $ECOMGPT_HELDOUT_DIR) are read in their native format
and converted to the released record format; other tasks' data comes as `--jsonl TASK=FILE` in that format.
Every training record is checked against the task's 500 test records (`TestTexts`: normalised equality, or
containment of a specific enough test text); a match is dropped and counted. This data never goes into the general mixture.
"""

from __future__ import annotations

import functools
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ecom_tasks.data import EvalDataError, EvalRelease, check_record
from ecom_tasks.prompts import build_doc
from ecom_tasks.release import TASK_NAMES, released_task
from ecomgpt_core.files import write_atomic
from ecomgpt_core.locations import HELDOUT_DIR_VAR, DataKind, DataLocationError, locate
from ecomgpt_core.hashing import seeded_int
from ecomgpt_data.errors import BuildError
from ecomgpt_data.guard import MIN_UNITS, normalise, units
from ecomgpt_data.mixture import resolve_release
from ecomgpt_data.mixture_folder import COLUMNS, write_mixture
from ecomgpt_data.outputs import protected_folders, refuse_protected
from ecomgpt_data.config import MixtureConfig

FOLDER_OF_NAME = {name: folder for folder, name in TASK_NAMES.items()}
DROPPED_SHOWN = 20


class HeldOutDataError(BuildError):
    """Held-out training data that cannot be read or converted."""


KIND = DataKind(what="the held-out datasets' training splits", variable=HELDOUT_DIR_VAR,
                cache_subdir="heldout_train", fetch_command="ecomgpt-data fetch --heldout")


@functools.cache
def registry() -> dict[str, dict]:
    """The public training splits, one record per file in `ecomgpt_data.fetch`'s registry format."""
    return json.loads(Path(__file__).with_name("heldout_files.json").read_text(encoding="utf-8"))


def locate_heldout(explicit: str | os.PathLike | None = None, required: bool = True) -> Path | None:
    """--heldout-dir, else $ECOMGPT_HELDOUT_DIR, else the fetched copy; None when there is none and not
    `required` (training data given only as --jsonl)."""
    try:
        return locate(KIND, explicit, "--heldout-dir")
    except DataLocationError:
        if required or explicit or os.environ.get(HELDOUT_DIR_VAR):
            raise
        return None


# --- the shipped folders, each converted to released records ---------------------------------------------------

ABSA_CATEGORIES = {"food": "Food", "service": "Service", "price": "Price", "ambience": "Ambience",
                   "anecdotes/miscellaneous": "Anecdotes/Miscellaneous"}  # str.capitalize() would be wrong


def absa_records(folder: Path) -> Iterator[tuple[str, dict]]:
    """SemEval-2014 restaurants train XML -> {"sentences", "labels": {"default": [categories in XML order]}}."""
    path = folder / "Restaurants_Train_v2.xml"
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError) as error:
        raise HeldOutDataError(f"{path}: {error}") from None
    for sentence in tree.getroot().iter("sentence"):
        where = f"{path.name}#{sentence.get('id')}"
        categories = [c.get("category", "") for c in sentence.iter("aspectCategory")]
        unknown = [c for c in categories if c not in ABSA_CATEGORIES]
        if unknown or not categories:
            raise HeldOutDataError(f"{where}: unknown or no aspect categories {unknown or categories}")
        labels = list(dict.fromkeys(ABSA_CATEGORIES[c] for c in categories))
        yield where, {"sentences": sentence.findtext("text") or "", "labels": {"default": labels}}


def reddit_qa_records(folder: Path) -> Iterator[tuple[str, dict]]:
    """SQuAD-format Reddit subset -> {"sentences": "Context: …\\nQuestion: …", "spans": [first answer]}; the
    answer offsets count from the context (not from `sentences`, which has the "Context: " prefix)."""
    path = folder / "reddit_v1.0.train_subset.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        paragraphs = [p for article in data["data"] for p in article["paragraphs"]]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise HeldOutDataError(f"{path}: not the SQuAD JSON the SOURCE.md describes ({error})") from None
    for paragraph in paragraphs:
        context = paragraph["context"]
        for qa in paragraph["qas"]:
            answer = qa["answers"][0]
            start = answer["answer_start"]
            if context[start:start + len(answer["text"])] != answer["text"]:
                raise HeldOutDataError(f"{path}: question {qa['id']}: the answer is not at {start} of its context")
            yield f"{path.name}#{qa['id']}", {
                "sentences": f"Context: {context}\nQuestion: {qa['question']}",
                "spans": [{"term": answer["text"], "start": start, "end": start + len(answer["text"])}]}


TAG = re.compile(r"<([^<>/]+)>(.*?)</\1>")


def mepave_records(folder: Path) -> Iterator[tuple[str, dict]]:
    """JAVE sample TSV (cid, sid, sentence, tagged sentence) -> {"sentences", "spans": [{term, type, start, end}]}."""
    for name in ("jdai.jave.fashion.train.sample", "jdai.jave.fashion.valid.sample"):
        path = folder / name
        try:
            lines = path.read_text(encoding="utf-8").removesuffix("\n").split("\n")
        except (OSError, UnicodeDecodeError) as error:
            raise HeldOutDataError(f"{path}: {error}") from None
        for number, line in enumerate(lines, 1):
            fields = line.rstrip("\r").split("\t")
            if len(fields) != 4:
                raise HeldOutDataError(f"{path}:{number}: expected 4 tab-separated columns")
            text, tagged, spans, plain = fields[2], fields[3], [], ""
            position = 0
            for match in TAG.finditer(tagged):
                plain += tagged[position:match.start()]
                spans.append({"term": match[2], "type": match[1], "start": len(plain),
                              "end": len(plain) + len(match[2])})
                plain += match[2]
                position = match.end()
            plain += tagged[position:]
            if plain != text:
                raise HeldOutDataError(f"{path}:{number}: the tagged sentence without its tags differs from column 3")
            yield f"{name}:{number}", {"sentences": text, "spans": spans}


@dataclass(frozen=True)
class Shipped:
    folder: str  # under --heldout-dir
    tasks: tuple[str, ...]  # eval task names
    read: Callable[[Path], Iterator[tuple[str, dict]]]
    note: str = ""


SHIPPED = (
    Shipped("ABSA", ("ecom_absa_review_topic",), absa_records),
    Shipped("Reddit_QA", ("ecom_redditqa_extract_qa",), reddit_qa_records),
    Shipped("MEPAVE", ("ecom_mepave_value_extraction", "ecom_mepave_value_detection"), mepave_records,
            note="the public JAVE sample only (70 rows): a format check, far below the paper's 800"),
)
NO_PUBLIC_DATA = {
    "ecom_lenovo_ner": "Lenovo: no public training split", "ecom_lenovo_condition_extract": "Lenovo: no public training split",
    "ecom_multicpr_product_select": "Multi_CPR: the passage texts (corpus.tsv) are not in the public snapshot",
    "ecom_multicpr_query_item_matching": "Multi_CPR: the passage texts (corpus.tsv) are not in the public snapshot",
    **{name: "OpenBG_Align: the CCKS2022 item-alignment release is distributed via Tianchi / Baidu Pan only"
       for name in ("ecom_openbg_item_align", "ecom_openbg_title_attribute_matching", "ecom_openbg_coarse_classify",
                    "ecom_openbg_fine_classify", "ecom_openbg_title_generate")},
}


def jsonl_records(path: Path) -> Iterator[tuple[str, dict]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{number}", json.loads(line)
            except json.JSONDecodeError as error:
                raise HeldOutDataError(f"{path}:{number}: not JSON ({error.msg})") from None


def task_name(given: str) -> str:
    """An eval task name (`ecom_lenovo_ner`) from itself or its released folder name."""
    if given in FOLDER_OF_NAME:
        return given
    if given in TASK_NAMES:
        return TASK_NAMES[given]
    raise HeldOutDataError(f"--jsonl {given}=...: not a held-out task; known: {', '.join(sorted(FOLDER_OF_NAME))}")


# --- disjointness, selection, instances ------------------------------------------------------------------------

class TestTexts:
    """A task's 500 test `sentences`, normalised as the held-out guard normalises; `match(text)` is the test text
    that a training text equals, or contains when the test text is specific enough to count (at least
    `MIN_UNITS` CJK characters or words, the guard's rule), else None. A short training text inside a longer
    test sentence ("The food is great." in "The food is great and the milkshakes are even better!") does not
    leak the test sentence and is kept."""

    def __init__(self, sentences: list[str]):
        self.keys = {key: s for s in sentences if (key := normalise(s))}
        self.contained = {k: s for k, s in self.keys.items() if units(s) >= MIN_UNITS}

    def match(self, text: str) -> str | None:
        key = normalise(text)
        if not key:
            return None
        if key in self.keys:
            return self.keys[key]
        return next((test for test_key, test in self.contained.items() if test_key in key), None)


def build_task(name: str, records: list[tuple[str, dict]], source: str, release: EvalRelease, per_task: int,
               seed: int) -> tuple[list[dict], dict]:
    """(rows, the task's report) for one held-out task."""
    folder = FOLDER_OF_NAME[name]
    meta = release.meta(folder)
    test = TestTexts([r["sentences"] for r in release.records(folder, meta)])
    kept, dropped, examples = [], 0, []
    for where, record in records:
        problem = check_record(record, folder, meta)
        if problem:
            raise HeldOutDataError(f"{where}: {problem} (the record format of {folder}/test.json)")
        found = test.match(record["sentences"])
        if found is not None:
            dropped += 1
            if len(examples) < DROPPED_SHOWN:
                examples.append({"record": where, "training_text": record["sentences"][:300], "test_text": found[:300]})
            continue
        kept.append((where, record))
    # The per_task records with the smallest seeded priority: a smaller per_task gives a subset.
    kept.sort(key=lambda item: (seeded_int(seed, "heldout", name, item[1]["sentences"], item[0]), item[0]))
    task = released_task(folder)
    rows = []
    for index, (where, record) in enumerate(kept[:per_task]):
        doc = build_doc(folder, meta, record, index)
        rows.append({"id": f"{name}/{Path(where).name}", "task": name, "source": source, "paradigm": task.paradigm.upper(),
                     "lang": task.lang, "cot": "original", "strategy": "original", "prompt": doc["prompt"],
                     "response": doc["target"]})
    report = {"source": source, "records": len(records), "dropped_overlapping_test": dropped,
              "dropped_examples": examples, "selected": len(rows), "per_task": per_task}
    return rows, report


def read_summary(out: Path) -> dict:
    """The `heldout_train.json` an earlier call wrote into `out`, or {} (none, or unreadable: rewritten)."""
    try:
        summary = json.loads((Path(out) / "heldout_train.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) and isinstance(summary.get("built"), dict) else {}


def heldout_train(heldout_dir: Path | None, out: Path, per_task: int = 800, seed: int = 42,
                  jsonl: dict[str, Path] | None = None, eval_dir: str | None = None, overwrite: bool = False) -> dict:
    """Write `out/<task>/` (a mixture folder) for every held-out task with training data; return the summary."""
    # The build's own checks of per_task, seed and the evaluation folder.
    release = resolve_release(MixtureConfig(eval_dir=eval_dir, per_task=per_task, seed=seed).validate(), False)
    inputs: dict[str, tuple[str, list]] = {}
    notes: dict[str, str] = {}
    heldout_dir = locate_heldout(heldout_dir, required=not jsonl)
    if heldout_dir is not None:
        for shipped in SHIPPED:
            folder = heldout_dir / shipped.folder
            if not folder.is_dir():
                continue
            records = list(shipped.read(folder))
            for name in shipped.tasks:
                inputs[name] = (shipped.folder, records)
                if shipped.note:
                    notes[name] = shipped.note
    for given, path in (jsonl or {}).items():
        name = task_name(given)
        if not Path(path).is_file():
            raise HeldOutDataError(f"--jsonl {given}={path}: no such file")
        inputs[name] = (Path(path).name, list(jsonl_records(Path(path))))
    if not inputs:
        raise HeldOutDataError(f"no training data in {heldout_dir}: it holds none of ABSA/, Reddit_QA/, MEPAVE/; "
                               "run `ecomgpt-data fetch --heldout`, or pass --jsonl TASK=FILE")
    out = Path(out)
    protected = protected_folders(None, str(release.root))
    if heldout_dir is not None:
        protected[Path(heldout_dir).resolve()] = "the held-out training folder"
    refuse_protected(out, protected)
    taken = [out / name for name in sorted(inputs) if (out / name).exists()]
    if taken and not overwrite:  # refused before anything is written, not after the first tasks
        raise HeldOutDataError(f"{taken[0]} exists; pass --overwrite to replace the task folders under {out}")
    out.mkdir(parents=True, exist_ok=True)
    built = {}
    for name in sorted(inputs):
        source, records = inputs[name]
        try:
            rows, report = build_task(name, records, source, release, per_task, seed)
        except EvalDataError as error:
            raise HeldOutDataError(str(error)) from None
        if not rows:
            raise HeldOutDataError(f"{name}: no training record left after the disjointness check")
        manifest = {"heldout_train": True, "config": {"per_task": per_task, "seed": seed, "eval_dir": str(release.root),
                                                      "heldout_dir": str(heldout_dir) if heldout_dir else None},
                    "seed": seed, "columns": list(COLUMNS), "task_order": [name],
                    "totals": {"selected": len(rows)}, "tasks": {name: report}, "note": notes.get(name, "")}
        write_mixture(rows, manifest, out / name, overwrite=overwrite)
        built[name] = {"folder": str(out / name), **{k: v for k, v in report.items() if k != "dropped_examples"},
                       "note": notes.get(name, "")}
    # Task folders that an earlier call wrote into the same --out stay listed (a second call adds, never hides).
    earlier, written = read_summary(out).get("built", {}), sorted(built)
    kept = {name: report for name, report in earlier.items() if (out / name / "manifest.json").is_file()}
    built = dict(sorted({**kept, **built}.items()))
    missing = {name: NO_PUBLIC_DATA.get(name, "no data given (pass --jsonl TASK=FILE)")
               for name in sorted(FOLDER_OF_NAME) if name not in built}
    summary = {"built": built, "without_data": missing}
    write_atomic(out / "heldout_train.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return {**summary, "written": written}
