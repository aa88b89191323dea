"""The released evaluation sets' one owner: `EvalRelease` locates a copy (--eval-dir, else $ECOMGPT_EVAL_DIR, else
the per-user cache that `ecomgpt fetch` fills, else one error line naming it), reads its tasks' meta-info.json and
test.json, and answers what other modules need of it (every record text for the held-out guard, a fingerprint for
the selection logs, the differences from the release hashes). Everything else takes the handle, not a path.

Every problem (missing folder, missing file, malformed JSON line, a record without the fields its task type
needs) raises `EvalDataError` naming the variable or `file:line` and saying how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from ecom_tasks.release import manifest, released_task, released_tasks
from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.hashing import sha256_of
from ecomgpt_core.locations import EVAL_DIR_VAR, DataKind, DataLocationError, locate

ENV_VAR = EVAL_DIR_VAR
FETCH_HINT = "run `ecomgpt fetch` to download the release into the cache, or set ECOMGPT_EVAL_DIR"
COMPLETE_MARKER = ".complete"


class EvalDataError(EcomGPTError):
    """The evaluation data is missing or malformed; the message says where and how to fix it."""


KIND = DataKind(what="the released evaluation sets (data/ecom_instruct_v1: ABSA/, Lenovo/, MEPAVE/, ...)",
                variable=EVAL_DIR_VAR, cache_subdir=f"ecominstruct_eval/{manifest()['commit'][:7]}",
                fetch_command="ecomgpt fetch", ready=lambda path: (path / COMPLETE_MARKER).is_file())


def cached_eval_dir() -> Path:
    """Where `ecomgpt fetch` puts the release: one folder per pinned commit."""
    return KIND.cached()


def eval_dir(explicit: str | os.PathLike | None = None, option: str | None = None) -> Path:
    """The folder holding `<Dataset>/tasks/<task>/...`, or an EvalDataError saying how to get one."""
    try:
        return locate(KIND, explicit, option)
    except DataLocationError as error:
        raise EvalDataError(str(error)) from None


class EvalRelease:
    """One copy of the released evaluation sets, at `root` (the folder that holds ABSA/, Lenovo/, ...)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def locate(cls, explicit: str | os.PathLike | None = None, option: str | None = None) -> EvalRelease:
        return cls(eval_dir(explicit, option))

    def __repr__(self) -> str:
        return f"EvalRelease({str(self.root)!r})"

    def task_dir(self, folder: str) -> Path:
        try:
            task = released_task(folder)
        except KeyError as err:  # e.g. a YAML whose metadata.ecomgpt_task has a typo
            raise EvalDataError(err.args[0]) from None
        path = self.root / task.relative_dir
        if not path.is_dir():
            source = f"{ENV_VAR}={self.root}" if os.environ.get(ENV_VAR) else str(self.root)  # noqa: SIM108
            raise EvalDataError(
                f"{path} is missing: the data folder ({source}) has no {task.relative_dir}. "
                f"Check that it is the release's data/ecom_instruct_v1 folder, or {FETCH_HINT}."
            )
        return path

    def meta(self, folder: str) -> dict:
        return read_meta(folder, self.root)

    def records(self, folder: str, meta: dict | None = None) -> list[dict]:
        return read_records(folder, self.root, meta)

    def check(self) -> EvalRelease:
        """Every released task read whole (meta-info.json and test.json), so that a missing folder or a malformed
        line is named in seconds, before any model loads."""
        for folder in released_tasks():
            self.records(folder)
        return self

    def test_files(self) -> Iterator[tuple[str, Path]]:
        """(relative folder, test.json path) of all 13 released folders, listed or not, in a fixed order."""
        for task in sorted(released_tasks().values(), key=lambda t: t.relative_dir):
            yield task.relative_dir, self.root / task.relative_dir / "test.json"

    def all_records(self) -> Iterator[tuple[str, dict]]:
        """(folder name, record) of every record of all 13 released folders, listed or not, in a fixed order."""
        for relative, path in self.test_files():
            if not path.is_file():
                raise EvalDataError(f"{path} is missing: the evaluation folder {self.root} has no {relative}/test.json; "
                                    f"restore it, or {FETCH_HINT}.")
            folder = relative.rsplit("/", 1)[-1]
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        yield folder, json.loads(line)

    def texts(self) -> Iterator[str]:
        """Every record text (`sentences`) of every released evaluation set."""
        for _, record in self.all_records():
            yield record["sentences"]

    def fingerprint(self) -> str:
        """SHA-256 over the test files the held-out guard reads (a missing one counts as such)."""
        digest = hashlib.sha256()
        for relative, path in self.test_files():
            digest.update(f"{relative}\0".encode())
            digest.update(path.read_bytes() if path.is_file() else b"\0missing")
        return digest.hexdigest()

    def verify(self) -> list[str]:
        """Every difference from the release: missing files and hash or size mismatches."""
        problems = []
        for task in released_tasks().values():
            for name, expected in task.files.items():
                path = self.root / task.relative_dir / name
                if not path.is_file():
                    problems.append(f"{path}: missing")
                elif path.stat().st_size != expected["size"] or sha256_of(path) != expected["sha256"]:
                    problems.append(f"{path}: content differs from the release (sha256 {expected['sha256'][:12]}...)")
        return problems

    def contains(self, path: Path) -> bool:
        return Path(path).resolve().is_relative_to(self.root.resolve())


def task_dir(folder: str, root: Path | None = None) -> Path:
    return EvalRelease(eval_dir() if root is None else root).task_dir(folder)


def _required_file(path: Path) -> Path:
    if not path.is_file():
        raise EvalDataError(f"{path} is missing. Restore it from the release, or {FETCH_HINT}.")
    return path


def _decoded(path: Path) -> str:
    """The file as UTF-8 text, or an EvalDataError naming the line with the first invalid byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise EvalDataError(f"{path}:{line}: not valid UTF-8 (byte {data[err.start]:#04x}). Restore the file from "
                            f"the release, or {FETCH_HINT}.") from None


def gold_outside_labels(folder: str, meta: dict, records: list[dict]) -> list[tuple[int, str]]:
    """(line, label) for each gold CLS label or NER type that the task's label list lacks: the prompt can never
    show it (CLS lists of at most 50 labels are shown whole), and an NER target has no line for that type."""
    task_type = released_task(folder).task_type
    if task_type not in ("CLS", "NER"):
        return []
    labels = set(meta["label_set"][meta["label_key"]])
    found = []
    for number, record in enumerate(records, start=1):
        gold = (record["labels"][meta["label_key"]] if task_type == "CLS"
                else [span["type"] for span in record["spans"]])
        found += [(number, label) for label in dict.fromkeys(gold) if label not in labels]
    return found


def check_eval_data(root: Path | None = None) -> Path:
    """The evaluation folder (default: `eval_dir()`) with every released task read whole (`EvalRelease.check`)."""
    return EvalRelease(eval_dir() if root is None else root).check().root


def read_meta(folder: str, root: Path | None = None) -> dict:
    """The task's meta-info.json, checked for the fields the prompts need."""
    path = _required_file(task_dir(folder, root) / "meta-info.json")
    try:
        meta = json.loads(_decoded(path))
    except json.JSONDecodeError as err:
        raise EvalDataError(f"{path}:{err.lineno}: not valid JSON ({err.msg}).") from None
    needs_labels = released_task(folder).task_type in ("CLS", "NER", "Condition_Extract")
    required = ["defi", "test_prompt", "label_sep"] + (["label_key", "label_set"] if needs_labels else [])
    missing = [key for key in required if key not in meta]
    prompt = meta.get("test_prompt")
    if "test_prompt" in meta and not (isinstance(prompt, dict) and isinstance(prompt.get("instruction"), str)):
        missing.append("test_prompt.instruction")
    if needs_labels and not missing and meta["label_key"] not in meta["label_set"]:
        missing.append(f"label_set.{meta['label_key']}")
    if missing:
        raise EvalDataError(f"{path}: missing field(s) {', '.join(missing)}; the file is not a released meta-info.json.")
    return meta


def check_record(record: object, folder: str, meta: dict) -> str | None:
    """Why this record cannot be used for its task type, or None."""
    if not isinstance(record, dict):
        return "a record must be a JSON object"
    if not isinstance(record.get("sentences"), str):
        return "no 'sentences' string"
    task_type = released_task(folder).task_type
    if task_type == "CLS":
        gold = record.get("labels", {}).get(meta["label_key"]) if isinstance(record.get("labels"), dict) else None
        if not isinstance(gold, list) or not gold or not all(isinstance(g, str) for g in gold):
            return f"no non-empty 'labels.{meta['label_key']}' list of strings"
        return None
    spans = record.get("spans")
    if not isinstance(spans, list) or not all(isinstance(s, dict) and isinstance(s.get("term"), str) for s in spans):
        return "no 'spans' list of objects with a 'term' string"
    if task_type == "NER" and not all(isinstance(s.get("type"), str) for s in spans):
        return "a span has no 'type' string"
    if task_type == "Generate" and len(spans) != 1:
        return f"a Generate record needs exactly one span (the target text), found {len(spans)}"
    return None


def read_records(folder: str, root: Path | None = None, meta: dict | None = None) -> list[dict]:
    """All records of test.json in file order (record i = line i + 1). Only a final empty line is allowed."""
    meta = read_meta(folder, root) if meta is None else meta
    path = _required_file(task_dir(folder, root) / "test.json")
    lines = _decoded(path).split("\n")
    if lines and lines[-1].strip() == "":
        lines.pop()
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise EvalDataError(f"{path}:{number}: empty line inside the file; every line must hold one record.")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise EvalDataError(
                f"{path}:{number}: malformed JSON ({err.msg} at column {err.colno}). "
                f"Restore the file from the release, or {FETCH_HINT}."
            ) from None
        problem = check_record(record, folder, meta)
        if problem:
            raise EvalDataError(f"{path}:{number}: {problem}.")
        records.append(record)
    if not records:
        raise EvalDataError(f"{path} holds no records.")
    return records
