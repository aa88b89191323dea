"""JDDC customer-service chat (zh): a 0.1% sample of JD's sessions, 12,136 messages in 994 sessions.

`chat_0.1per.txt` is TSV without a header: session id, user id, sender (0 customer, 1 agent), transfer flag,
repeat flag, SKU, message; a session's rows are contiguous. Consecutive messages of one sender form a turn.
Every agent turn with an earlier turn gives a reply record (the last turns before it as context); every message
gives a speaker record. The organisers' 52-session dev set (`dev_question.txt` / `dev_answer.txt`, three
references per question) is not read yet.
"""

from __future__ import annotations

import csv
from itertools import groupby
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record
from ecomgpt_data.sources import Source, register, task_factory

NAME = "jddc_dialogue_sample_zh"
FILE = "chat_0.1per.txt"
SPEAKERS = {"0": "顾客", "1": "客服"}
CONTEXT_TURNS = 6  # turns of context before a reply


def files(root: Path) -> list[Path]:
    return [root / FILE]


def _messages(root: Path):
    """(origin, session, speaker, message) per row, or a Malformed."""
    with (root / FILE).open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in rows:
            origin = f"{FILE}:{rows.line_num}"
            if len(row) != 7 or row[2] not in SPEAKERS:
                yield Malformed(origin, "expected 7 tab-separated fields with sender 0 (customer) or 1 (agent)")
                continue
            yield origin, row[0], SPEAKERS[row[2]], row[6].strip()


def read(root: Path):
    messages = []
    for item in _messages(root):
        if isinstance(item, Malformed):
            yield item
            continue
        messages.append(item)
        origin, _, speaker, message = item
        if message:
            yield Record(NAME, f"{origin}#speaker", "zh", "dialogue message", message, subset="speaker",
                         labels={"speaker": (speaker,)})
    for session, rows in groupby(messages, key=lambda m: m[1]):
        turns = [(group[0][0], speaker, " ".join(m[3] for m in group if m[3]))
                 for speaker, group in ((s, list(g)) for s, g in groupby(rows, key=lambda m: m[2]))]
        for index, (origin, speaker, text) in enumerate(turns):
            if speaker != SPEAKERS["1"] or index == 0 or not text:
                continue
            context = tuple(f"{s}：{t}" for _, s, t in turns[max(0, index - CONTEXT_TURNS):index] if t)
            if context:
                yield Record(NAME, origin, "zh", "dialogue", "\n".join(context), subset="reply", context=context,
                             target=text, labels={"item": (session,)})


_task = task_factory("jddc", NAME, "zh")

register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("reply_generation", "GEN", "original", "response_generation",
              ("customer-service reply generation", "客服回复生成"), at.response_generation(), "reply"),
        _task("reply_select", "EXT", "recombination", "select",
              ("selecting the agent's reply to a customer-service dialogue", "选出客服对话的回复"),
              at.choose_target(), "reply"),
        _task("speaker", "CLS", "simplification", "classify",
              ("whether a customer-service message is the customer's or the agent's", "判断消息来自顾客还是客服"),
              at.classify("speaker", tuple(SPEAKERS.values())), "speaker"),
    ),
))
