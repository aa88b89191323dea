"""Schema-Guided Dialogue, three dialogue files (en): user turns with intent, service and slot spans.

Each user turn is a record: the utterance, up to four earlier turns as context, the active intent of its
first frame, the slot spans of that frame (the schema's slot names are the types) and the service. The
intent candidates are the service's intents (from the split's schema.json) plus NONE.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Span
from ecomgpt_data.sources import Source, register, task_factory

NAME = "sgd_intent_subset"
DIALOGUES = ("train/dialogues_023.json", "train/dialogues_032.json", "test/dialogues_008.json")
CONTEXT_TURNS = 4


def files(root: Path) -> list[Path]:
    schemas = sorted({Path(name).parent / "schema.json" for name in DIALOGUES})
    return [root / name for name in DIALOGUES] + [root / schema for schema in schemas]


def _schema(root: Path, split: str) -> dict[str, dict]:
    return {service["service_name"]: service for service in json.loads((root / split / "schema.json").read_text("utf-8", errors="surrogateescape"))}


def _service_domain(service: str) -> str:
    return service.rsplit("_", 1)[0]


def _user_turn(where: str, utterance: str, frame: dict, schema: dict, context: tuple[str, ...]) -> Record:
    service = schema[frame["service"]]
    spans = []
    for slot in frame.get("slots", []):
        start, end = slot["start"], slot["exclusive_end"]
        if not 0 <= start < end <= len(utterance):
            raise ValueError(f"slot {slot['slot']!r} at {start}:{end} lies outside the utterance")
        spans.append(Span(utterance[start:end], slot["slot"], start, end))
    return Record(
        NAME, where, "en", "dialogue", utterance, context=context, spans=tuple(spans),
        labels={
            "intent": (frame["state"]["active_intent"],),
            "intent_set": tuple(intent["name"] for intent in service["intents"]) + ("NONE",),
            "slot_types": tuple(slot["name"] for slot in service["slots"]),
            "service": (_service_domain(frame["service"]),),
        },
    )


def read(root: Path):
    schemas = {}
    for name in DIALOGUES:
        split = Path(name).parent.name
        schema = schemas.setdefault(split, _schema(root, split))
        try:
            dialogues = json.loads((root / name).read_text("utf-8", errors="surrogateescape"))
        except json.JSONDecodeError as error:
            yield Malformed(f"{name}:{error.lineno}", f"JSON does not parse: {error.msg}")
            continue
        for dialogue in dialogues:
            turns: list[str] = []
            for index, turn in enumerate(dialogue.get("turns", [])):
                where = f"{name}#{dialogue.get('dialogue_id')}/{index}"
                try:
                    utterance = turn["utterance"]
                    if turn["speaker"] == "USER":
                        yield _user_turn(where, utterance, turn["frames"][0], schema, tuple(turns[-CONTEXT_TURNS:]))
                except (KeyError, IndexError, TypeError, ValueError) as error:
                    yield Malformed(where, f"{type(error).__name__}: {error}")
                    continue
                turns.append(utterance)


def label_sets(root: Path) -> dict[str, tuple[str, ...]]:
    services = {_service_domain(name) for split in ("train", "test") for name in _schema(root, split)}
    return {"service": tuple(sorted(services))}


_task = task_factory("sgd", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read, label_sets=label_sets,
    tasks=(
        _task("intent_detection", "CLS", "original", "classify", ("intent detection", "意图识别"),
              at.classify("intent", "intent_set")),
        _task("slot_filling", "NER", "original", "ner", ("slot filling", "槽位填充"), at.ner("slot_types")),
        _task("slot_span_detection", "EXT", "simplification", "span_detection", ("slot span detection", "槽位片段检测"),
              at.span_detection("slot_types")),
        _task("service_classification", "CLS", "simplification", "classify", ("service domain classification", "服务领域分类"),
              at.classify("service")),
    ),
))
