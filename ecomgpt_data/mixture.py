"""Build the mixture: select tasks, stream every source once, filter, guard, sample, render, write.

Selection is what makes scaling subsets nest. Tasks are ordered by a seeded hash of their names and
`num_tasks` takes a prefix of that order; within a task every instance gets a seeded hash priority from its
content and the `per_task` smallest are kept (a bounded heap, so memory does not grow with the raw data). A
smaller `per_task` or `num_tasks` therefore always gives a subset of a larger one, and the same inputs and
config give a byte-identical `mixture.jsonl`. A source whose selection log (`selection_log`) from an earlier
build covers this one is replayed from it instead of streamed: the same selection, in seconds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import multiprocessing
import random
import re
import sys
import time
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tqdm.auto import tqdm

from ecom_tasks.data import EvalDataError, EvalRelease
from ecomgpt_data.atomic_tasks import BuildContext, Example, TaskSpec
from ecomgpt_data.config import MixtureConfig
from ecomgpt_data import outputs, raw, selection_log
from ecomgpt_data.mixture_folder import COLUMNS, is_mixture_folder, write_mixture
from ecomgpt_data.errors import BuildError
from ecomgpt_data.filters import QualityFilter, RuleFilter, hf_quality_filter
from ecomgpt_data.guard import RULES, HeldOutGuard, check_source_identity
from ecomgpt_data.instructions import RESPONSE_SEPARATOR, make_instruction
from ecomgpt_data.pseudo import pseudo_sources
from ecomgpt_data.records import Malformed, RawDataError, Record, Skipped
from ecomgpt_data.sampling import BoundedSample
from ecomgpt_data.selection_log import SourceLog
from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.files import exclusive_lock, lock_path
from ecomgpt_core.hashing import seeded_int, seeded_ints
from ecomgpt_data.sources import Source, load_sources
from ecomgpt_data.sources.jsonl import jsonl_source

POOL_SIZE = 64  # earlier records of a source kept for negatives and distractors
logger = logging.getLogger("ecomgpt_data")
MALFORMED_SHOWN = 20
GUARD_EXAMPLES = 30  # dropped (training text, held-out text) pairs kept in the manifest


def task_order(tasks: Iterable[TaskSpec], seed: int) -> list[TaskSpec]:
    """The fixed seeded order that `num_tasks` takes a prefix of (a task's place depends only on its name)."""
    return sorted(tasks, key=lambda t: (seeded_int(seed, "task-order", t.name), t.name))


def select_tasks(sources: dict[str, Source], config: MixtureConfig) -> list[TaskSpec]:
    tasks = [t for s in sources.values() for t in s.tasks]
    tasks = [t for t in tasks if not (config.lang and t.lang != config.lang)]
    tasks = [t for t in tasks if t.paradigm not in config.drop_paradigms]
    tasks = [t for t in tasks if not (config.no_golden_cot and t.cot == "golden_cot")]
    tasks = [t for t in tasks if not (config.no_pseudo_cot and t.cot == "pseudo_cot")]
    ordered = task_order(tasks, config.seed)
    return ordered[: config.num_tasks] if config.num_tasks else ordered


def resolve_sources(config: MixtureConfig, config_dir: Path | None = None) -> dict[str, Source]:
    registry = dict(load_sources(config.source_modules))
    for spec in config.jsonl_sources:
        source = jsonl_source(spec, config_dir)
        if source.name in registry:
            raise BuildError(f"jsonl source {source.name!r} has the name of a registered source")
        registry[source.name] = source
    for folder in config.pseudo:
        for source in pseudo_sources(Path(folder) if config_dir is None else config_dir / folder):
            registry[source.name] = source
    for name in [*config.sources, *config.drop_sources]:
        if name not in registry:
            raise BuildError(f"unknown source {name!r}; known: {', '.join(sorted(registry))}")
    # A source derived from a named one (its pseudo-labelled tasks) goes with it.
    wanted = set(config.sources or registry)
    wanted |= {n for n, s in registry.items() if set(s.derived_from) & set(config.sources)}
    dropped = set(config.drop_sources) | {n for n, s in registry.items() if set(s.derived_from) & set(config.drop_sources)}
    return {name: registry[name] for name in sorted(wanted - dropped)}


def resolve_release(config: MixtureConfig, unguarded_hint: bool = True) -> EvalRelease:
    """The evaluation sets the held-out guard reads: --eval-dir, else $ECOMGPT_EVAL_DIR, else the fetched copy.
    `unguarded_hint`: the message mentions --unsafe-no-guard (only `build` has it)."""
    try:
        return EvalRelease.locate(config.eval_dir, "--eval-dir")
    except EvalDataError as error:
        raise BuildError(f"the held-out guard needs the evaluation sets: {error}"
                         + (". --unsafe-no-guard builds without the guard (never for real training data)"
                            if unguarded_hint else "")) from None


SURROGATE = re.compile("[\ud800-\udfff]")  # what errors="surrogateescape" makes of bytes that are not UTF-8


def undamaged(items: Iterable, root: Path, check_text: bool = True) -> Iterator:
    """A source's items, with a record holding bytes that are not UTF-8 turned into a `Malformed` naming it (so
    `--on-error skip` skips and counts it), and a damaged zip archive into a BuildError naming the folder.
    `check_text=False` when every input file is known to be UTF-8 (the check costs a regex per text)."""
    try:
        for item in items:
            if check_text and isinstance(item, Record) and any(SURROGATE.search(t) for t in item.texts() if t):
                yield Malformed(item.id, "not valid UTF-8")
            else:
                yield item
    except zipfile.BadZipFile as error:
        raise BuildError(f"{root}: a zip archive is damaged ({error}); re-download it (its SOURCE.md names the "
                         "snapshot)") from None


@dataclass
class InputFiles:
    """What one read of a source's input files tells: per file (by its name under the source's folder) the
    SHA-256 and size, and whether every file decodes as UTF-8 (an archive never counts as such: its reader
    decodes it)."""

    sha256: dict[str, str]
    sizes: dict[str, int]
    all_utf8: bool


def raw_file_differences(source: Source, files: InputFiles) -> list[str]:
    """What differs between a shipped source's files and the snapshot (empty for unknown sources)."""
    expected = raw.known_files().get(source.name)
    if expected is None:
        return []
    found = []
    for name, want in expected.items():
        if name not in files.sha256:
            continue
        if files.sizes[name] != want["size"]:
            found.append(f"{source.name}/{name}: {files.sizes[name]:,} bytes, the snapshot has {want['size']:,}")
        elif files.sha256[name] != want["sha256"]:
            found.append(f"{source.name}/{name}: same size but different content (sha256 {files.sha256[name][:12]}"
                         f"..., the snapshot has {want['sha256'][:12]}...)")
    return found


def read_input_files(source: Source, root: Path, release: EvalRelease | None) -> InputFiles:
    """Each input file read once, after checking that they all exist; the source is refused when it is a
    held-out evaluation dataset."""
    paths = source.files(root)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise BuildError(f"source {source.name}: missing input file(s) {missing}; {raw.missing_hint(source.name)}")
    hashes, sizes, utf8 = {}, {}, True
    for path in paths:
        data = path.read_bytes()  # one read serves the digest, the size and the UTF-8 check
        hashes[path], sizes[path] = hashlib.sha256(data).hexdigest(), len(data)
        if path.suffix == ".zip":
            utf8 = False
        elif utf8:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                utf8 = False
    check_source_identity(source.name, source.derived_from, paths, hashes, release)

    def name(path: Path) -> str:
        return path.relative_to(root).as_posix() if source.folder else path.name

    return InputFiles({name(p): h for p, h in hashes.items()}, {name(p): n for p, n in sizes.items()}, utf8)


class GuardVerdict:
    """Whether one record holds a held-out text, worked out on first call only: the guard is the dearest step
    of a build, and it need not look at a record none of whose instances could be selected (or enter the
    pool). The selection is the same as checking every record first; the counts cover the records checked."""

    __slots__ = ("_check", "_held_out", "_on_pool")

    def __init__(self, check: Callable[[], bool], on_pool: Callable[[], None] | None = None):
        self._check, self._held_out, self._on_pool = check, None, on_pool

    def __call__(self, by_pool: bool = False) -> bool:
        if by_pool and self._on_pool is not None:
            self._on_pool()  # the pool looks at this record whatever the per_task (a selection log keeps that)
        if self._held_out is None:
            self._held_out = self._check()
        return self._held_out


class RecentRecords:
    """The pool: the last `size` records of a source that the guard lets through, oldest first. Records join
    with their unresolved verdict; reading the pool (or letting it grow `slack` records past `size`) resolves
    verdicts from the newest record back until `size` clean ones are found and forgets the older ones.

    Kept incrementally: the records found clean (`_clean`, resolved) and those that joined since (`_new`,
    unresolved); a read resolves only the newcomers (an older clean record's verdict is known), and reads
    with no newcomer in between share one list. Which verdicts get resolved, and in which order, is the same
    as resolving every entry from the newest back on each read."""

    def __init__(self, size: int, slack: int = 4096):
        self.size, self.slack = size, slack
        self._clean: deque[Record] = deque()
        self._new: list[tuple[Record, GuardVerdict]] = []
        self._records: list[Record] = []

    def append(self, record: Record, verdict: GuardVerdict) -> None:
        self._new.append((record, verdict))
        if len(self._clean) + len(self._new) > self.size + self.slack:
            self._trim()

    def _trim(self) -> None:
        found: list[Record] = []
        for record, verdict in reversed(self._new):
            if len(found) == self.size:
                break
            if not verdict(by_pool=True):
                found.append(record)
        self._new = []
        clean = self._clean
        for record in reversed(found):
            clean.append(record)
        while len(clean) > self.size:
            clean.popleft()
        self._records = list(clean)

    def __iter__(self) -> Iterator[Record]:
        if self._new:
            self._trim()
        return iter(self._records)


NOT_HELD_OUT = GuardVerdict(lambda: False)  # every record's verdict when the guard is off


@dataclass
class TaskState:
    spec: TaskSpec
    sample: BoundedSample  # the per_task instances with the smallest priority
    counts: Counter = field(default_factory=Counter)
    replayed: dict | None = None  # when replayed from a selection log: the selected examples by priority

    def chosen(self) -> list[Example]:
        if self.replayed is None:
            return self.sample.items()
        try:
            return [self.replayed[priority] for priority in self.sample.items()]
        except KeyError:
            raise RuntimeError(f"task {self.spec.name}: the selection log lacks a selected instance") from None


@dataclass
class _Pending:
    """What every source of a build reads: its folder, its input files' check, the task states, the guard's
    fingerprint for selection logs (None: logs off)."""

    roots: dict[str, Path]
    inputs: dict[str, InputFiles]
    states: dict[str, TaskState]
    evaluation: str | None
    logs_on: bool


@dataclass
class SourceResult:
    """One source's part of a build, merged by `MixtureBuilder.run` in name order."""

    name: str
    tasks: dict[str, tuple]  # per task: (sample, counts, replayed), the state a worker hands back (its spec
    # holds the task's builder, a local function that does not pickle)
    report: dict
    held: dict[int, dict]
    checked: int
    log: SourceLog | None
    replayed: bool
    items: int
    seconds: float


_FORKED: MixtureBuilder | None = None  # the builder a forked worker inherits


def _source_in_worker(name: str) -> SourceResult | str:
    """A pool worker's source; a bad-input error comes back as its message (one line for the user), since an
    exception with its own arguments does not always survive pickling."""
    try:
        return _FORKED.process_source(name, None)
    except EcomGPTError as error:
        return str(error)


class MixtureBuilder:
    def __init__(self, config: MixtureConfig, quality_filter: QualityFilter | None = None,
                 config_dir: Path | None = None, progress: bool = True, cache: bool = True, workers: int = 1):
        self.config = config
        if workers < 1:
            raise BuildError(f"--workers {workers}: give 1 or more processes")
        self.workers = workers
        self.sources = resolve_sources(config, config_dir)
        self.tasks = select_tasks(self.sources, config)
        if not self.tasks:
            raise BuildError("the options leave no task to build")
        self.rules = RuleFilter(config.max_chars)
        if quality_filter is None and config.quality_model:
            quality_filter = hf_quality_filter(config.quality_model, config.quality_label, config.quality_threshold)
        self.quality_filter = quality_filter
        if quality_filter is not None and workers > 1:
            raise BuildError("--workers above 1 cannot share the quality model between processes; build with "
                             "--workers 1 when --quality-model is given")
        self.progress = progress
        self.guard: HeldOutGuard | None = None
        self.guard_counts: Counter = Counter()  # dropped records per guard rule
        self.guard_examples: list[dict] = []
        self.raw_differences: list[str] = []  # shipped sources' files that differ from their snapshots
        self.release: EvalRelease | None = None
        self.cache = cache  # read and write selection logs
        self.replayed: list[str] = []  # sources replayed from a selection log
        self.logged: list[str] = []  # sources whose selection log this build wrote

    # -- instances -----------------------------------------------------------------------------------------

    def render(self, task: TaskSpec, example: Example) -> dict:
        config = self.config
        rng = random.Random(seeded_int(config.seed, "prompt", task.name, example.key))
        lang = rng.choice(("en", "zh")) if config.prompt_lang == "mixed" else config.prompt_lang
        instruction = make_instruction(
            family=task.family, paradigm=task.paradigm, description=task.description, input=example.input,
            output=example.output, candidates=example.candidates, lang=lang, rng=rng,
            narrow=config.narrow_prompts, with_constraint=not config.no_constraints)
        return {"id": f"{task.name}/{example.key}", "task": task.name, "source": task.source,
                "paradigm": task.paradigm, "lang": task.lang, "cot": task.cot, "strategy": task.strategy,
                "prompt": instruction.render(with_description=not config.no_description),
                "response": instruction.output}

    def offer(self, state: TaskState, example: Example, priority_of: Callable[[str], int],
              held_out: GuardVerdict = NOT_HELD_OUT, log: SourceLog | None = None, ordinal: int = 0,
              task_index: int = 0) -> None:
        """Clean an instance, give it its priority (`priority_of` its cleaned content: the task's
        `seeded_int(seed, task, content, sep="\x1d")`), note both in the source's selection `log` when one is
        recorded, and `admit` it."""
        cleaned, reason, had_illegal = self.rules.apply(example)
        priority = None
        if cleaned is not None:
            content = "\x1f".join((cleaned.input, *cleaned.candidates, "\x1e", cleaned.output))
            priority = priority_of(content)
        if log is not None:
            log.note(ordinal, task_index, reason, had_illegal, priority)
        self.admit(state, priority, reason, had_illegal, held_out, cleaned)

    def admit(self, state: TaskState, priority: int | None, reason: str | None, had_illegal: bool,
              held_out: GuardVerdict, cleaned: Example | None) -> None:
        """Every offered instance ends in exactly one count: a rule's reason, `duplicates`, `guard_dropped`,
        `quality_dropped`, `over_quota` or (at the end) `selected`. The guard (`held_out`, its record's verdict)
        is asked only about an instance that could be selected. A replayed instance has no `cleaned` example:
        its priority stands for it until the end (`TaskState.chosen`).

        The sampling priority is a seeded hash of the instance's content, so exact duplicates share it: a
        duplicate of a kept instance is found among the kept ones, and one of an instance that was not kept
        cannot be kept either. Duplicate detection therefore needs only the bounded sample, not a set of every
        instance seen, and the result equals deduplicating everything first (first occurrence wins)."""
        counts = state.counts
        counts["illegal_chars_removed"] += had_illegal
        if reason is not None:
            counts[reason] += 1
            return
        digest = priority  # the content's identity for duplicate detection
        verdict = state.sample.verdict(priority, digest)
        if verdict is not None:
            counts[verdict] += 1
            return
        if held_out():
            counts["guard_dropped"] += 1
            return
        if self.quality_filter is not None:
            # Judged only when the instance could be selected: the verdict is per instance, so the
            # selection is the same as judging everything, at a fraction of the model calls.
            row = self.render(state.spec, cleaned)
            counts["quality_checked"] += 1
            if not self.quality_filter(row["prompt"], row["response"]):
                counts["quality_dropped"] += 1
                return
        item, key = (priority, "") if cleaned is None else (cleaned, cleaned.key)
        if state.sample.add(priority, key, digest, item):
            counts["over_quota"] += 1  # another instance was pushed out

    # -- sources -------------------------------------------------------------------------------------------

    def source_root(self, source: Source) -> Path:
        if not source.folder:
            return Path(".")
        folder = raw.locate_raw(self.config.raw_dir)
        root = folder / source.folder
        if not root.is_dir():
            raise BuildError(f"source {source.name}: {root} is not a folder (raw data folder: {folder}); "
                             f"{raw.missing_hint(source.name)}")
        return root

    def stream_source(self, source: Source, root: Path, states: list[TaskState], report: dict,
                      check_text: bool = True, bar: tqdm | None = None,
                      log: SourceLog | None = None) -> tuple[dict[int, dict], int]:
        """Every record of the source through its tasks' builders into their samples; with `log`, the
        source's selection log is recorded on the way. Returns what the guard found (see `guard_report`)."""
        config = self.config
        label_sets = source.label_sets(root) if source.label_sets else {}
        pool = RecentRecords(POOL_SIZE)
        counts, skipped = Counter(), Counter()
        held: dict[int, dict] = {}  # record ordinal -> what the guard found

        def verdict(item: Record, ordinal: int) -> GuardVerdict:
            def check() -> bool:
                counts["guard_checked_records"] += 1
                found = self.guard_match(source, item)
                if found is not None:
                    held[ordinal] = found
                if log is not None:
                    log.verdict[ordinal] = found is not None
                return found is not None

            def pooled() -> None:
                log.pooled[ordinal] = 1
            return GuardVerdict(check, pooled if log is not None else None) if self.guard is not None else NOT_HELD_OUT

        # per task: its state, subset, builder, index in the log, its per-record RNG seeds
        # (`seeded_int(seed, "build", task, record id)`) and its instances' sampling priorities
        tasks = [(state, state.spec.subset, state.spec.build, number, seeded_ints(config.seed, "build", state.spec.name),
                  seeded_ints(config.seed, state.spec.name, sep="\x1d")) for number, state in enumerate(states)]
        malformed: list[str] = []
        items = 0
        for item in undamaged(source.read(root), root, check_text):
            items += 1
            if bar is not None:
                bar.update()
            if isinstance(item, Malformed):
                where = f"{root / item.origin if source.folder else item.origin}"
                if config.on_error == "raise":
                    raise RawDataError(where, item.reason + " (use --on-error skip to skip and count such records)")
                counts["malformed"] += 1
                if len(malformed) < MALFORMED_SHOWN:
                    malformed.append(f"{where}: {item.reason}")
                continue
            if isinstance(item, Skipped):
                skipped[item.reason] += 1
                continue
            ordinal = counts["records"]
            counts["records"] += 1
            if log is not None:
                log.verdict.append(-1)
                log.pooled.append(0)
            held_out = verdict(item, ordinal)
            for state, subset, build, index, seeds, priority_of in tasks:
                if subset and subset != item.subset:
                    continue
                seed = functools.partial(seeds, item.id)
                for example in build(item, BuildContext(pool=pool, label_sets=label_sets, seed=seed)):
                    state.counts["generated"] += 1
                    self.offer(state, example, priority_of, held_out, log, ordinal, index)
            pool.append(item, held_out)
        if counts["records"] == 0:
            raise BuildError(f"source {source.name} yielded no record from {root} ({counts['malformed']} malformed, "
                             f"skipped {dict(skipped)}); a file may be empty or damaged: compare it with the snapshot "
                             "its SOURCE.md names, or leave the source out with --drop-source")
        report.update(records=counts["records"], malformed=counts["malformed"], malformed_examples=malformed,
                      skipped=dict(sorted(skipped.items())))
        if log is not None:
            log.items, log.report = items, {k: report[k] for k in ("records", "malformed", "malformed_examples", "skipped")}
            log.held = held
        return held, counts["guard_checked_records"]

    def guard_report(self, report: dict, held: dict[int, dict], checked: int) -> None:
        """The source's guard counts from the records it resolved (`held`: the held-out ones by ordinal), and
        its dropped pairs for the manifest (by record order, so that a replayed build lists the same)."""
        if self.guard is None:
            report.update(guard_checked_records=0, guard_dropped_records=0)
            return
        for ordinal in sorted(held):
            self.guard_counts[held[ordinal]["rule"]] += 1
            if len(self.guard_examples) < GUARD_EXAMPLES:
                self.guard_examples.append(held[ordinal])
        report.update(guard_checked_records=checked, guard_dropped_records=len(held))

    def replay_source(self, log: SourceLog, states: list[TaskState], report: dict,
                      bar: tqdm | None) -> tuple[dict[int, dict], int]:
        """The source's instances from its selection log, through the same `admit` as a streamed build; the
        guard's verdicts are the log's (a record it never resolved cannot be asked: see `selection_log`)."""
        by_index = {log.tasks.index(state.spec.name): state for state in states}
        asked = set()

        def verdict(ordinal: int) -> GuardVerdict:
            def check() -> bool:
                value = log.verdict[ordinal]
                if value < 0:
                    raise RuntimeError(f"selection log of {states[0].spec.source}: record {ordinal} was never "
                                       "checked by the guard")
                asked.add(ordinal)
                return bool(value)
            return GuardVerdict(check) if self.guard is not None else NOT_HELD_OUT

        reasons = [None, *log.reasons]
        current, held_out = -1, NOT_HELD_OUT
        for ordinal, task, status, illegal, priority in zip(log.record, log.task, log.status, log.illegal,
                                                            log.priority):
            if ordinal != current:
                current, held_out = ordinal, verdict(ordinal)
            state = by_index[task]
            state.counts["generated"] += 1
            reason = reasons[status]
            self.admit(state, None if reason else priority, reason, illegal, held_out, None)
        for state in states:
            state.replayed = {priority: Example(key, text, output, tuple(candidates))
                              for priority, (key, text, output, candidates) in log.selected[state.spec.name].items()}
        if bar is not None:
            bar.update(log.items)
        report.update(log.report)
        resolved = asked | {ordinal for ordinal, pooled in enumerate(log.pooled) if pooled}
        held = {ordinal: log.held[ordinal] for ordinal in resolved if log.verdict[ordinal] == 1}
        return held, len(resolved)

    def guard_match(self, source: Source, item: Record) -> dict | None:
        """What the guard found in a record (its rule, the record, the training and the held-out text), or None
        when the record holds no held-out text."""
        if self.guard is None:
            return None
        for text in item.texts():
            found = self.guard.match(text) if text else None
            if found:
                rule, held = found
                return {"rule": rule, "source": source.name, "record": item.id, "training_text": text[:300],
                        "held_out_text": held[:300]}
        return None

    # -- the whole build -----------------------------------------------------------------------------------

    def run(self) -> tuple[list[dict], dict]:
        config = self.config
        wanted = {t.source for t in self.tasks}
        roots = {name: self.source_root(source) for name, source in self.sources.items() if name in wanted}
        if not config.unsafe_no_guard:
            self.release = resolve_release(config)
        inputs = {name: read_input_files(self.sources[name], roots[name], self.release) for name in sorted(roots)}
        for name in sorted(roots):
            self.raw_differences += raw_file_differences(self.sources[name], inputs[name])
        if self.raw_differences:
            listed = "; ".join(self.raw_differences)
            if config.strict:
                raise BuildError(f"raw files differ from their snapshots (--strict): {listed}")
            for difference in self.raw_differences:
                logger.warning("raw file differs from its snapshot: %s", difference)
        if not config.unsafe_no_guard:
            self.guard = HeldOutGuard.from_release(self.release)

        states = {t.name: TaskState(t, sample=BoundedSample(config.per_task)) for t in self.tasks}
        source_reports: dict[str, dict] = {}
        # The bar counts items over all sources; its total (and so its ETA) is known when every source is a
        # shipped one whose files match their snapshot, which says how many items each yields.
        snapshots = raw.registry()
        differing = {d.split("/", 1)[0] for d in self.raw_differences}
        totals = [snapshots[n].get("items") if n in snapshots and n not in differing else None for n in sorted(roots)]
        bar = tqdm(total=None if None in totals else sum(totals), unit=" records", disable=not self.progress,
                   mininterval=1.0, dynamic_ncols=True)
        # Selection logs: read and written only when no quality model judges instances (its verdicts are not
        # part of the log's fingerprint).
        logs_on = self.cache and self.quality_filter is None
        evaluation = self.release.fingerprint() if logs_on and self.release is not None else None
        self._pending = _Pending(roots, inputs, states, evaluation, logs_on)
        names = sorted(roots)
        with bar:
            if self.workers > 1 and len(names) > 1:
                # Sources are independent until the merge below, which takes them in name order: the mixture
                # and manifest are the same as one process's. Forked workers inherit the builder (guard
                # index included) instead of pickling it.
                global _FORKED
                _FORKED = self
                largest_first = sorted(names, key=lambda n: -(snapshots.get(n, {}).get("items") or 0))
                done = {}
                try:
                    with multiprocessing.get_context("fork").Pool(min(self.workers, len(names))) as pool:
                        for result in pool.imap_unordered(_source_in_worker, largest_first):
                            if isinstance(result, str):
                                raise BuildError(result)
                            done[result.name] = result
                            bar.update(result.items)
                            self._say(result, len(done), len(names), bar)
                finally:
                    _FORKED = None
                results = [done[name] for name in names]
            else:
                results = []
                for number, name in enumerate(names, 1):
                    bar.set_description(f"source {number} of {len(names)}: {name}")
                    results.append(self.process_source(name, bar))
                    self._say(results[-1], number, len(names), bar)
        recorded: dict[str, SourceLog] = {}
        for result in results:
            for task, (sample, counts, replayed) in result.tasks.items():
                states[task].sample, states[task].counts, states[task].replayed = sample, counts, replayed
            source_reports[result.name] = result.report
            self.guard_report(result.report, result.held, result.checked)
            if result.log is not None:
                recorded[result.name] = result.log
            if result.replayed:
                self.replayed.append(result.name)

        rows: list[dict] = []
        for task in self.tasks:
            state = states[task.name]
            chosen = state.chosen()
            state.counts["selected"] = len(chosen)
            rows.extend(self.render(task, example) for example in chosen)
        for name, log in recorded.items():
            log.selected = {state.spec.name: {priority: [e.key, e.input, e.output, list(e.candidates)]
                                              for priority, e in state.sample.entries()}
                            for state in states.values() if state.spec.source == name}
            if selection_log.write(name, log) is not None:
                self.logged.append(name)
        return rows, self.manifest(states, source_reports)

    def process_source(self, name: str, bar: tqdm | None) -> SourceResult:
        """One source, start to end: replayed from its selection log when one is valid, else streamed (and its
        log recorded). Touches only its own tasks' states, so sources can run in separate processes."""
        pending = self._pending
        started = time.perf_counter()
        report = {"files": pending.inputs[name].sha256}
        mine = [s for s in pending.states.values() if s.spec.source == name]
        source, replay, log = self.sources[name], None, None
        if pending.logs_on and selection_log.loggable(source):
            fingerprint = self.log_fingerprint(name, pending.inputs[name], pending.evaluation)
            replay = selection_log.read(name, fingerprint, [s.spec.name for s in mine], self.config.per_task)
            if replay is None:
                log = SourceLog(fingerprint, self.config.per_task, [s.spec.name for s in mine], items=0, report={})
        if replay is not None:
            held, checked = self.replay_source(replay, mine, report, bar)
            items = replay.items
        else:
            held, checked = self.stream_source(source, pending.roots[name], mine, report,
                                               check_text=not pending.inputs[name].all_utf8, bar=bar, log=log)
            items = report["records"] + report["malformed"] + sum(report["skipped"].values())
        return SourceResult(name, {s.spec.name: (s.sample, s.counts, s.replayed) for s in mine}, report, held,
                            checked, log, replay is not None, items, time.perf_counter() - started)

    def _say(self, result: SourceResult, number: int, total: int, bar: tqdm) -> None:
        if self.progress:
            how = "replayed from its selection log" if result.replayed else "generated"
            bar.write(f"source {number} of {total}: {result.name}: {result.report['records']:,} records, "
                      f"{sum(counts['generated'] for _, counts, _ in result.tasks.values()):,} instances {how} for "
                      f"{len(result.tasks)} tasks ({result.seconds:.1f} s)", file=sys.stderr)

    def log_fingerprint(self, name: str, files: InputFiles, evaluation: str | None) -> str:
        """What a source's selection log is valid for (see `selection_log`)."""
        config = self.config
        parts = {"format": selection_log.FORMAT, "code": selection_log.code_fingerprint(), "seed": config.seed,
                 "max_chars": config.max_chars, "on_error": config.on_error, "guard": evaluation,
                 "source": name, "files": files.sha256}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def manifest(self, states: dict[str, TaskState], source_reports: dict) -> dict:
        try:
            package_version = version("ecomgpt")
        except PackageNotFoundError:
            package_version = "unknown"
        tasks = {}
        for name, state in states.items():
            spec = state.spec
            tasks[name] = {"source": spec.source, "paradigm": spec.paradigm, "lang": spec.lang, "cot": spec.cot,
                           "strategy": spec.strategy, **dict(sorted(state.counts.items()))}
        totals = Counter()
        for info in tasks.values():
            totals.update({k: v for k, v in info.items() if isinstance(v, int)})
        return {
            "ecomgpt_version": package_version,
            "config": self.config.to_dict(),
            "seed": self.config.seed,
            "columns": list(COLUMNS),
            "response_separator": RESPONSE_SEPARATOR,
            "task_order": [t.name for t in self.tasks],
            "totals": dict(sorted(totals.items())),
            "tasks": tasks,
            "sources": source_reports,
            "raw_files_differing_from_snapshot": self.raw_differences,
            "selection_logs": {"replayed": self.replayed, "written": self.logged,
                               "folder": str(selection_log.log_dir())},
            "guard": ({"eval_dir": str(self.release.root), **self.guard.summary(),
                       "dropped_records_by_rule": {rule: self.guard_counts[rule] for rule in RULES},
                       "dropped_examples": self.guard_examples} if self.guard
                      else {"disabled": True}),
        }


def check_output(out: Path, config: MixtureConfig, overwrite: bool) -> None:
    """A build's output check (see `ecomgpt_data.outputs.check_output`)."""
    outputs.check_output(out, config.raw_dir, config.eval_dir, overwrite, is_mixture_folder, "ecomgpt-data build")


def build(config: MixtureConfig, out: Path, overwrite: bool = False, quality_filter: QualityFilter | None = None,
          config_dir: Path | None = None, progress: bool = True, cache: bool = True, workers: int = 1) -> dict:
    """Build the mixture into `out`; `cache=False` neither reads nor writes selection logs; `workers` processes
    read the sources (the output does not depend on it)."""
    check_output(out, config, overwrite)
    try:
        with exclusive_lock(out):
            builder = MixtureBuilder(config, quality_filter, config_dir, progress, cache, workers)
            rows, manifest = builder.run()
            if not rows:
                raise BuildError("no instance survived the filters; nothing written")
            write_mixture(rows, manifest, out, overwrite)
    except BlockingIOError:
        raise BuildError(f"another build is writing {out} now (lock {lock_path(Path(out))}); wait for it to finish or "
                         "choose another --out") from None
    return manifest
