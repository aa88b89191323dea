"""MG-ShopDial (en): multi-goal conversations between a shopper (Client) and a human shopping assistant
(Wizard): per utterance its intents (multi-label) and conversational goal; the Wizard's replies.

One JSON array of dialogues. Traps (see SOURCE.md): the data card says `assistant_checklist` and
participant "Assistant", the file `wizard_checklist` and "Wizard"; each intent comes with the number of
annotators (of 5, a float) who chose it, and only intents chosen by at least 2 are kept; 39 utterances keep
none and get no intent task. The intent names are the paper's abbreviations (pf, nf, o_question, ...), kept
as they are. Each utterance is a record (subset "utterance") with up to 6 earlier turns; each Wizard turn is
also a reply record (subset "reply": the dialogue so far -> the reply).
"""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Skipped
from ecomgpt_data.sources import Source, register, task_factory

NAME = "mgshopdial_shopping_dialogue"
FILE = "MGShopDial.json"
PARTICIPANTS = ("Client", "Wizard")
GOALS = ("search", "recommendation", "qa", "meta")
INTENTS = ("answer", "clarify", "explain", "interaction", "o_question", "pf", "greeting", "recommend", "disclose",
           "elicit", "other", "nf")
MIN_ANNOTATORS = 2
CONTEXT_TURNS = 6


def files(root: Path) -> list[Path]:
    return [root / FILE]


def read(root: Path):
    try:
        dialogues = json.loads((root / FILE).read_text(encoding="utf-8", errors="surrogateescape"))
    except json.JSONDecodeError as error:
        yield Malformed(f"{FILE}:{error.lineno}", f"not JSON: {error.msg}")
        return
    if not isinstance(dialogues, list):
        yield Malformed(f"{FILE}:1", "expected a JSON array of dialogues")
        return
    for index, dialogue in enumerate(dialogues):
        where = f"{FILE}#{dialogue.get('id', index) if isinstance(dialogue, dict) else index}"
        turns: list[str] = []
        for utterance in (dialogue.get("utterances") or []) if isinstance(dialogue, dict) else [None]:
            try:
                number, speaker = utterance["utterance_id"], utterance["participant"]
                text, goal = utterance["utterance"].strip(), utterance["goal"]
                intents = [name for name, votes in utterance["intents"] if float(votes) >= MIN_ANNOTATORS]
            except (KeyError, TypeError, ValueError) as error:
                yield Malformed(where, f"an utterance lacks utterance_id, participant, utterance, goal or intents ({error})")
                break
            origin = f"{where}#{number}"
            if speaker not in PARTICIPANTS or goal not in GOALS or any(i not in INTENTS for i in intents):
                yield Malformed(origin, f"unknown participant {speaker!r}, goal {goal!r} or intent in {intents}")
                continue
            if not text:
                yield Skipped(origin, "empty utterance")
                continue
            context = "\n".join(turns[-CONTEXT_TURNS:])
            labels = {"goal": (goal,), "participant": (speaker,)}
            if intents:
                labels["intent"] = tuple(i for i in INTENTS if i in intents)
            yield Record(NAME, origin, "en", "dialogue",
                         (f"Dialogue:\n{context}\n" if context else "") + f"Utterance ({speaker}): {text}",
                         subset="utterance", labels=labels, context=tuple(turns[-CONTEXT_TURNS:]))
            if speaker == "Wizard" and context:
                yield Record(NAME, f"{origin}/reply", "en", "dialogue", f"Dialogue:\n{context}", subset="reply",
                             target=text)
            turns.append(f"{speaker}: {text}")


def speaker_only():
    """Simplification: who speaks, from the utterance alone (no earlier turns, no speaker name)."""
    def build(record: Record, ctx: at.BuildContext) -> list[at.Example]:
        text = record.text.rsplit("\n", 1)[-1].split("): ", 1)[1]
        return [at.Example(record.id, text, record.labels["participant"][0], PARTICIPANTS)]
    return build


_task = task_factory("mgshopdial", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read,
    tasks=(
        _task("intent_classification", "CLS", "original", "classify",
              ("shopping dialogue utterance intent classification", "购物对话意图分类"), at.classify("intent", INTENTS),
              "utterance"),
        _task("goal_classification", "CLS", "original", "classify",
              ("shopping dialogue goal classification", "购物对话目标分类"), at.classify("goal", GOALS), "utterance"),
        _task("speaker_identification", "CLS", "simplification", "classify",
              ("telling the shopper from the shopping assistant", "判断说话人是顾客还是导购"), speaker_only(), "utterance"),
        _task("response_generation", "GEN", "original", "response_generation",
              ("shopping assistant response generation", "导购回复生成"), at.text_to_target(), "reply"),
        _task("response_select", "EXT", "recombination", "select",
              ("selecting the shopping assistant's reply among replies of other dialogues", "从其他对话的回复中选出导购回复"),
              at.choose_target(prefix="Candidate replies"), "reply"),
    ),
))
