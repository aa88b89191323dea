"""E-commerce Dialogue Corpus sample (Zhang et al. 2018) (zh): Taobao customer-service response selection.

TSV `label \\t utterance_1 ... \\t response`, words separated by spaces. Consecutive lines with the same
context form one record: the context turns, every candidate reply, and the positive one as `target`.
`valid` is byte-identical to `train` in the source, so it is not read.
"""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped, unspace_cjk
from ecomgpt_data.sources import Source, register, task_factory

NAME = "ecd_ecommerce_dialogue_sample"
SPLITS = ("train", "test")


def files(root: Path) -> list[Path]:
    return [root / name for name in SPLITS]


def _record(origin: str, context: tuple[str, ...], replies: list[tuple[str, str]]):
    positives = [reply for label, reply in replies if label == "1"]
    if len(positives) != 1:
        return Skipped(origin, f"a context with {len(positives)} positive replies (1 needed)")
    candidates = tuple(dict.fromkeys(reply for _, reply in replies))
    return Record(NAME, origin, "zh", "dialogue", context[-1], context=context, target=positives[0],
                  candidates=candidates)


def read(root: Path):
    for path in files(root):
        where = path.relative_to(root).as_posix()
        group_origin, context, replies = "", None, []
        with path.open(encoding="utf-8", errors="surrogateescape") as handle:
            for number, line in enumerate(handle, 1):
                fields = line.rstrip("\r\n").split("\t")
                if len(fields) < 3 or fields[0] not in ("0", "1"):
                    yield Malformed(f"{where}:{number}", "expected: label (0/1), at least one utterance, a response")
                    continue
                turns = tuple(unspace_cjk(field.strip()) for field in fields[1:-1])
                if turns != context:
                    if context is not None:
                        yield _record(group_origin, context, replies)
                    group_origin, context, replies = f"{where}:{number}", turns, []
                replies.append((fields[0], unspace_cjk(fields[-1].strip())))
        if context is not None:
            yield _record(group_origin, context, replies)


_task = task_factory("ecd_dialogue", NAME, "zh")


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("response_selection", "EXT", "original", "response_selection", ("response selection", "回复选择"),
              at.response_selection()),
        _task("response_generation", "GEN", "reversal", "response_generation", ("response generation", "回复生成"),
              at.response_generation()),
        _task("response_matching", "CLS", "simplification", "response_matching", ("response matching", "回复匹配判断"),
              at.response_matching(("匹配", "不匹配"))),
    ),
))
