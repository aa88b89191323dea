"""The selection log: what a build learnt about each source's stream of instances, kept in the user cache so that
a later build with the same inputs and no larger `per_task` replays it instead of generating, cleaning and
hashing every instance again (a `--per-task 16` build then costs a few seconds, not a full build's minute).

What a build's selection depends on is, per instance, in stream order: the rule filters' verdict, the seeded
priority of the cleaned content, and the guard's verdict on its record (asked only when the instance could be
selected); the pool of earlier records adds the guard verdicts it resolves. The log keeps exactly that, as
arrays, plus the content of the instances the recording build selected. A build with `per_task` N no larger than
the recording's replays the same sequence through the same sampling code, so it selects what it would select
from the raw data: the N smallest admitted priorities are among the recording's selected ones (the nesting that
scaling subsets rely on), and every guard verdict it needs was resolved by the recording.

A log is valid for one fingerprint (this package's code, the seed, `max_chars`, `on_error`, the evaluation sets
the guard reads, and the SHA-256 of the source's input files) and one set of the source's tasks; the newest
`KEEP` logs of each source are kept. Only the package's own sources are
logged (a plug-in's or a JSON-lines source's reader is not covered by the code fingerprint), and no source is
when a quality filter judges instances. Written by hand: `datasets`' cache fingerprints `map` calls over a
dataset, not a stream over raw files through a bounded sample.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import time
import zipfile
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecomgpt_core.files import write_atomic
from ecomgpt_core.locations import cache_root

FORMAT = 1
KEEP = 8  # logs kept per source (other seeds, task sets, raw snapshots); the oldest go first
PACKAGES = ("ecomgpt_core", "ecom_tasks", "ecomgpt_data")  # the code a build's stream depends on
logger = logging.getLogger("ecomgpt_data")


def log_dir() -> Path:
    return cache_root() / "selection-logs" / f"v{FORMAT}"


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 over every Python file of the packages a build runs (an edit anywhere invalidates every log)."""
    import importlib

    digest = hashlib.sha256()
    for package in PACKAGES:
        root = Path(importlib.import_module(package).__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(f"{package}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def loggable(source) -> bool:
    """Whether a source's reader is this package's own (covered by the code fingerprint)."""
    module = getattr(source.read, "__module__", "") or ""
    return module.startswith("ecomgpt_data.sources.") and module != "ecomgpt_data.sources.jsonl"


@dataclass
class SourceLog:
    """One source's stream, as arrays: per instance (in stream order) its record's ordinal, its task (an index into
    `tasks`), its rule status (0 passed, k: `reasons[k - 1]`), whether illegal characters were removed, and its
    priority; per record the guard's verdict (-1 never resolved, 0 clean, 1 held out) and whether the pool
    resolved it. `held` is the guard's finding for each held-out record, `selected` the recording build's
    selected instances of each task by priority, `report` the source's N-independent counts."""

    fingerprint: str
    per_task: int
    tasks: list[str]
    items: int
    report: dict
    reasons: list[str] = field(default_factory=list)
    # Typed arrays while recording (16 bytes an instance and 2 a record; Python lists would take about 110)
    record: array | list = field(default_factory=lambda: array("i"))
    task: array | list = field(default_factory=lambda: array("h"))
    status: array | list = field(default_factory=lambda: array("b"))
    illegal: array | list = field(default_factory=lambda: array("b"))
    priority: array | list = field(default_factory=lambda: array("Q"))
    verdict: array | list = field(default_factory=lambda: array("b"))
    pooled: array | list = field(default_factory=lambda: array("b"))
    held: dict[int, dict] = field(default_factory=dict)
    selected: dict[str, dict[int, list]] = field(default_factory=dict)

    def note(self, record: int, task: int, reason: str | None, illegal: bool, priority: int | None) -> None:
        """One instance of the stream: its rule verdict (`reason`, None when it passed) and its priority."""
        self.record.append(record)
        self.task.append(task)
        self.illegal.append(illegal)
        if reason is None:
            self.status.append(0)
            self.priority.append(priority)
            return
        if reason not in self.reasons:
            self.reasons.append(reason)
        self.status.append(self.reasons.index(reason) + 1)
        self.priority.append(0)


# What a missing, truncated, empty or damaged .npz raises on reading (numpy reads it as a zip archive).
UNREADABLE = (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError, KeyError, TypeError, UnicodeDecodeError,
              json.JSONDecodeError)
STALE_TEMPORARY_S = 600  # a log is written in well under a second; an older temporary file is a killed write's


def path_for(name: str, fingerprint: str, tasks: list[str]) -> Path:
    """A log serves one fingerprint and one task set: the same tasks, not a subset, since which records the pool
    resolves depends on which builders look at it."""
    key = hashlib.sha256("\0".join([fingerprint, *sorted(tasks)]).encode()).hexdigest()[:20]
    return log_dir() / f"{name}-{key}.npz"


def _meta(arrays, fingerprint: str, tasks: list[str]) -> dict | None:
    """An open log's metadata when it was recorded for this fingerprint and these tasks."""
    meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    if meta.get("fingerprint") != fingerprint or sorted(meta.get("tasks", [])) != sorted(tasks):
        return None
    return meta


def read(name: str, fingerprint: str, tasks: list[str], per_task: int) -> SourceLog | None:
    """The log that a build of these tasks with this per_task can replay (recorded for the same fingerprint and
    tasks with a per_task no smaller), if there is one; a log that cannot be read is ignored (with a warning)
    and rewritten by the build."""
    path = path_for(name, fingerprint, tasks)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            meta = _meta(arrays, fingerprint, tasks)
            if meta is None or per_task > meta["per_task"]:
                return None
            columns = {key: arrays[key].tolist() for key in ("record", "task", "status", "illegal", "priority",
                                                             "verdict", "pooled")}
            events = {len(columns[key]) for key in ("record", "task", "status", "illegal", "priority")}
            if len(events) != 1 or {len(columns["verdict"]), len(columns["pooled"])} != {meta["report"]["records"]}:
                raise ValueError("its arrays disagree in length")
    except UNREADABLE as error:
        logger.warning("ignoring the unreadable selection log %s (%s: %s); the build rewrites it", path,
                       type(error).__name__, error)
        path.unlink(missing_ok=True)  # this cache's own file: without it, write() cannot take a readable header
        return None                   # of a damaged log for a valid one
    return SourceLog(fingerprint=fingerprint, per_task=meta["per_task"], tasks=meta["tasks"], items=meta["items"],
                     report=meta["report"], reasons=meta["reasons"],
                     held={int(k): v for k, v in meta["held"].items()},
                     selected={task: {int(p): value for p, value in chosen.items()}
                               for task, chosen in meta["selected"].items()}, **columns)


def write(name: str, log: SourceLog) -> Path | None:
    """Publish the log atomically (a temporary file renamed over the old one), unless the log already there for
    the same fingerprint and tasks has as large a per_task; a cache that cannot be written costs only the
    speed-up."""
    path = path_for(name, log.fingerprint, log.tasks)
    try:
        with np.load(path, allow_pickle=False) as arrays:  # only its metadata is read
            meta = _meta(arrays, log.fingerprint, log.tasks)
        if meta is not None and meta["per_task"] >= log.per_task:
            return None
    except UNREADABLE:
        pass  # none there, or unreadable: replaced below
    meta = {"format": FORMAT, "fingerprint": log.fingerprint, "per_task": log.per_task, "tasks": log.tasks,
            "items": log.items, "report": log.report, "reasons": log.reasons,
            "held": {str(k): v for k, v in log.held.items()},
            "selected": {task: {str(p): value for p, value in chosen.items()} for task, chosen in log.selected.items()}}
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        record=np.asarray(log.record, dtype=np.int32), task=np.asarray(log.task, dtype=np.int16),
        status=np.asarray(log.status, dtype=np.int8), illegal=np.asarray(log.illegal, dtype=np.int8),
        priority=np.asarray(log.priority, dtype=np.uint64), verdict=np.asarray(log.verdict, dtype=np.int8),
        pooled=np.asarray(log.pooled, dtype=np.bool_))
    try:
        write_atomic(path, buffer.getvalue())
    except OSError as error:
        logger.warning("could not write the selection log %s (%s); later small builds will not be faster", path,
                       error)
        return None
    prune(name)
    return path


def prune(name: str) -> None:
    """Keep the source's `KEEP` newest logs (only files this module names: `<source>-<key>.npz`), and remove the
    temporary files that killed writes of its logs left (`.<source>-<key>.npz.*`, older than a few minutes)."""
    logs = sorted(log_dir().glob(f"{name}-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in logs[KEEP:]:
        if old.stem.rsplit("-", 1)[0] == name:
            old.unlink(missing_ok=True)
    now = time.time()
    for temporary in log_dir().glob(f".{name}-*.npz.*"):
        try:
            if temporary.name.split("-", 1)[0] == f".{name}" and now - temporary.stat().st_mtime > STALE_TEMPORARY_S:
                temporary.unlink()
        except OSError:  # removed by another build meanwhile
            pass
