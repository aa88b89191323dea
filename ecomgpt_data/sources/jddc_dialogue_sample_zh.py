"""JDDC customer-service chat (zh): a 0.1% sample of JD's sessions, 12,136 messages in 994 sessions.

`chat_0.1per.txt` is TSV without a header: session id, user id, sender (0 customer, 1 agent), transfer flag,
repeat flag, SKU, message; a session's rows are contiguous. Consecutive messages of one sender form a turn.
Every agent turn with an earlier turn gives a reply record (the last turns before it as context); every message
gives a speaker record.

The organisers' 52-session dev set: `dev_question.txt` holds per session (`<session ID>` ... `</session ID>`) a
`<context>` of `Q:<TAB>customer` / `A:<TAB>agent` lines, then the customer's next turns `<Q1>...</Q1>`, `<Q2>`...;
`dev_answer.txt` holds per session one line per question. An agent line holds three human agents' replies
separated by `<sep>` (the answers) or one, each reply one or more messages separated by `!@@@!`; `NULL` is an
agent who did not reply. Each reply (not NULL) to a question gives a reply record, all of a session sharing an
item so that no session's reply is another's negative; the dialogue goes on with the first reply of each
agent turn.
"""

from __future__ import annotations

import csv
import re
from itertools import groupby
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record
from ecomgpt_data.sources import Source, register, task_factory

NAME = "jddc_dialogue_sample_zh"
FILE = "chat_0.1per.txt"
DEV_QUESTIONS, DEV_ANSWERS = "dev_question.txt", "dev_answer.txt"
SPEAKERS = {"0": "顾客", "1": "客服"}
CONTEXT_TURNS = 6  # turns of context before a reply


def files(root: Path) -> list[Path]:
    return [root / FILE, root / DEV_QUESTIONS, root / DEV_ANSWERS]


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
        turns = _merged([(origin, speaker, message) for origin, _, speaker, message in rows])
        for index, (origin, speaker, text) in enumerate(turns):
            if speaker != SPEAKERS["1"] or index == 0 or not text:
                continue
            context = _context(turns[max(0, index - CONTEXT_TURNS):index])
            if context:
                yield Record(NAME, origin, "zh", "dialogue", "\n".join(context), subset="reply", context=context,
                             target=text, labels={"item": (session,)})
    yield from _dev_replies(root)


def _context(turns) -> tuple[str, ...]:
    """The context lines (`speaker：text`) of (origin, speaker, text) turns."""
    return tuple(f"{s}：{t}" for _, s, t in turns if t)


SESSION = re.compile(r"<session ([^<>]+)>$")
QUESTION = re.compile(r"<Q(\d+)>(.*)</Q\1>$")


def _joined(messages: str) -> str:
    """One turn's text from its `!@@@!`-separated messages (as the chat file's consecutive messages are joined)."""
    return " ".join(m.strip() for m in messages.split("!@@@!") if m.strip())


def _replies(field: str) -> list[tuple[int, str]]:
    """(agent, reply) of one agent line's `<sep>`-separated replies (agents numbered from 1), NULL (the agent did
    not reply) left out."""
    replies = ((agent, _joined(r)) for agent, r in enumerate(field.split("<sep>"), 1) if r.strip() != "NULL")
    return [(agent, reply) for agent, reply in replies if reply]


def _sessions(path: Path):
    """(origin of the opening line, session id, lines of the session as (line number, text)), or a Malformed."""
    where, session, lines = None, None, []
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\r\n")
            if session is None:
                opened = SESSION.match(line)
                if opened:
                    where, session, lines = f"{path.name}:{number}", opened[1], []
                elif line.strip():
                    yield Malformed(f"{path.name}:{number}", f"expected <session ID>, got {line[:60]!r}")
                    return
            elif line == f"</session {session}>":
                yield where, session, lines
                session = None
            else:
                lines.append((number, line))
    if session is not None:
        yield Malformed(where, f"session {session} has no closing </session {session}>")


def _dev_replies(root: Path):
    questions = list(_sessions(root / DEV_QUESTIONS))
    answers = list(_sessions(root / DEV_ANSWERS))
    for bad in (item for item in questions + answers if isinstance(item, Malformed)):
        yield bad
        return
    if [q[1] for q in questions] != [a[1] for a in answers]:
        yield Malformed(DEV_ANSWERS, f"its sessions are not those of {DEV_QUESTIONS} in the same order")
        return
    for (_, session, lines), (answer_where, _, answer_lines) in zip(questions, answers):
        turns, asked, bad = [], [], None  # turns: (origin, speaker, text); asked: (origin, the customer's turn)
        for number, line in lines:
            kind, _, text = line.partition(":\t")
            question = QUESTION.match(line)
            if line in ("<context>", "</context>") or not line.strip():
                continue
            if kind == "Q" and not asked:
                turns.append((f"{DEV_QUESTIONS}:{number}", SPEAKERS["0"], _joined(text)))
            elif kind == "A" and not asked:
                replies = _replies(text)
                if replies:
                    turns.append((f"{DEV_QUESTIONS}:{number}", SPEAKERS["1"], replies[0][1]))
            elif question:
                asked.append((f"{DEV_QUESTIONS}:{number}", _joined(question[2])))
            else:
                bad = Malformed(f"{DEV_QUESTIONS}:{number}", f"expected Q:<TAB>, A:<TAB> or <Qn>...</Qn>, got {line[:60]!r}")
                break
        answered = [(number, line) for number, line in answer_lines if line.strip()]
        if bad is None and len(answered) != len(asked):
            bad = Malformed(answer_where, f"session {session} has {len(answered)} answer lines for {len(asked)} questions "
                                          f"in {DEV_QUESTIONS}")
        if bad is not None:
            yield bad
            continue
        for (asked_where, customer), (number, line) in zip(asked, answered):
            turns.append((asked_where, SPEAKERS["0"], customer))
            context = _context(_merged(turns)[-CONTEXT_TURNS:])
            replies = _replies(line)
            for agent, reply in replies:
                yield Record(NAME, f"{DEV_ANSWERS}:{number}#{agent}", "zh", "dialogue", "\n".join(context),
                             subset="reply", context=context, target=reply, labels={"item": (f"dev {session}",)})
            if replies:
                turns.append((f"{DEV_ANSWERS}:{number}", SPEAKERS["1"], replies[0][1]))


def _merged(turns: list) -> list:
    """Consecutive (origin, speaker, text) of one speaker as one turn, named by the first's origin: a sender's
    consecutive chat messages, or a customer's turns around a dev-set agent line none replied to."""
    merged = []
    for origin, speaker, text in turns:
        if merged and merged[-1][1] == speaker:
            merged[-1] = (merged[-1][0], speaker, " ".join(t for t in (merged[-1][2], text) if t))
        else:
            merged.append((origin, speaker, text))
    return merged


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
