"""Bring data without code: a JSON Lines file in the released evaluation record format.

Each line is `{"sentences": str, "labels": {key: [str, ...]}}` and/or
`{"sentences": str, "spans": [{"term": str, "type": str?, "start": int?, "end": int?}]}`. Configured under
`jsonl_sources:` in a mixture config with `name`, `path`, `lang` (en/zh) and optionally `description`,
`data_type` and `cot` (`original`, or `pseudo_cot` for machine-labelled data). Tasks follow from the data:
each label key -> a classification task; typed spans -> NER and its three simplifications; untyped spans ->
span extraction. A first pass over the file collects label sets and types.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.atomic_tasks import TaskSpec
from ecomgpt_data.errors import JsonlSourceError
from ecomgpt_data.records import DATA_TYPES, Malformed, Record, Span, numbered_lines
from ecomgpt_data.sources import Source, ner_tasks

KEYS = {"name", "path", "lang", "description", "data_type", "cot"}


def _parse(line: str) -> tuple[str, dict[str, tuple[str, ...]], tuple[Span, ...]]:
    item = json.loads(line)
    if not isinstance(item, dict) or not isinstance(item.get("sentences"), str) or not item["sentences"].strip():
        raise ValueError("a record needs a non-empty string 'sentences'")
    labels = item.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                                               for v in labels.values()):
        raise ValueError("'labels' must map a key to a list of strings")
    spans = []
    for span in item.get("spans", []):
        if not isinstance(span, dict) or not isinstance(span.get("term"), str) or not span["term"]:
            raise ValueError(f"a span needs a non-empty string 'term': {span!r}")
        spans.append(Span(span["term"], str(span.get("type", "")), int(span.get("start", -1)), int(span.get("end", -1))))
    if not labels and not spans and "spans" not in item:
        raise ValueError("a record needs 'labels' or 'spans'")
    return item["sentences"], {k: tuple(v) for k, v in labels.items()}, tuple(spans)


def jsonl_source(spec: dict, base: Path | None = None) -> Source:
    """A `Source` for one configured JSON Lines file (`base`: the folder relative paths start from)."""
    unknown = set(spec) - KEYS
    missing = {"name", "path", "lang"} - set(spec)
    if unknown or missing:
        raise JsonlSourceError(f"jsonl source {spec.get('name', '?')}: unknown keys {sorted(unknown)}, "
                               f"missing keys {sorted(missing)} (keys: {sorted(KEYS)})")
    name, lang = str(spec["name"]), spec["lang"]
    path = Path(spec["path"]) if base is None else base / spec["path"]
    data_type, cot = spec.get("data_type", "text"), spec.get("cot", "original")
    if lang not in ("en", "zh") or data_type not in DATA_TYPES or cot not in ("original", "pseudo_cot"):
        raise JsonlSourceError(f"jsonl source {name}: lang must be en/zh, data_type one of {DATA_TYPES}, "
                               f"cot original/pseudo_cot; got {lang!r}, {data_type!r}, {cot!r}")
    if not path.is_file():
        raise JsonlSourceError(f"jsonl source {name}: {path} is not a file")
    description = spec.get("description", name.replace("_", " "))

    def read(_root: Path):
        for where, line in numbered_lines(path, path.parent):
            try:
                text, labels, spans = _parse(line)
            except (ValueError, TypeError) as error:
                yield Malformed(where, str(error))
                continue
            yield Record(name, where, lang, data_type, text, labels=labels, spans=spans)

    label_values: dict[str, set[str]] = {}
    types: dict[str, None] = {}
    untyped = False
    for item in read(path.parent):
        if isinstance(item, Record):
            for key, values in item.labels.items():
                label_values.setdefault(key, set()).update(values)
            for span in item.spans:
                if span.type:
                    types.setdefault(span.type)
                else:
                    untyped = True
    label_sets = {key: tuple(sorted(values)) for key, values in label_values.items()}

    pseudo = "pseudo_cot" if cot == "pseudo_cot" else ""
    tasks: list[TaskSpec] = [
        TaskSpec(f"{name}.classify_{key}", source=name, paradigm="CLS", lang=lang, strategy="original",
                 family="classify", description=(description, description), build=at.classify(key), cot_kind=pseudo)
        for key in label_sets
    ]
    if types:
        tasks += [TaskSpec(**{**t.__dict__, "cot_kind": pseudo or t.cot_kind})
                  for t in ner_tasks(name, name, lang, list(types), (description, description))]
    if untyped:
        tasks.append(TaskSpec(f"{name}.extract", source=name, paradigm="EXT", lang=lang, strategy="original",
                              family="span_detection", description=(description, description),
                              build=at.aspect_extraction(), cot_kind=pseudo))
    return Source(name=name, lang=lang, folder="", files=lambda _root: [path], read=read, tasks=tuple(tasks),
                  label_sets=lambda _root: label_sets)
