"""The released evaluation prompt and target of each record, deterministic on every run and machine.

Prompt = the release's head sentence with the task's `defi` + `test_prompt.instruction`, with
`{sentences}` = the record's text and `{label_set}` = the candidates joined by `label_sep`.
Targets follow the release's own encoders: CLS -> gold labels joined by ", "; NER -> one line per type of
the label list (`Type: a, b` or `Type: None`); Extract / Condition_Extract -> span terms joined by ", ";
Generate -> the span term.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from ecom_tasks.release import Profile, released_task
from ecomgpt_core.hashing import seeded_int

PROMPT_HEAD = (
    "Below is an instruction that describes the {defi} task. "
    "Write a response that appropriately completes the request.\n"
)
MAX_CANDIDATES = 50
ANSWER_SEP = ", "
NO_ENTITY = "None"


def record_seed(folder: str, index: int) -> int:
    """A seed per record from a hash of its task and line: stable across processes, Pythons and machines."""
    return seeded_int(folder, index, sep="\n", algorithm="sha256")


def label_list(meta: dict) -> list[str]:
    return list(meta["label_set"][meta["label_key"]])


def draw_candidates(labels: Sequence[str], gold: Sequence[str], rng: random.Random) -> list[str]:
    """The candidate labels a prompt shows, for evaluation and training alike: the whole label list (in its
    order) when it has at most 50 labels; otherwise the gold labels plus distractors drawn with `rng` up to 50
    in total, in an `rng`-shuffled order."""
    if len(labels) <= MAX_CANDIDATES:
        return list(labels)
    gold_unique = list(dict.fromkeys(gold))
    distractors = [label for label in labels if label not in set(gold_unique)]
    # 50 gold labels or more: all of them, no distractor (never in the release; rng.sample would refuse)
    candidates = gold_unique + rng.sample(distractors, max(0, MAX_CANDIDATES - len(gold_unique)))
    rng.shuffle(candidates)
    return candidates


def cls_candidates(labels: list[str], gold: list[str], folder: str, index: int) -> list[str]:
    """An evaluation record's candidates: `draw_candidates` with the record's own seeded RNG."""
    return draw_candidates(labels, gold, random.Random(record_seed(folder, index)))


def release_candidates(labels: Sequence[str], gold: Sequence[str], folder: str, index: int) -> list[str]:
    """The release profile's candidates, drawn as the released code draws them but seeded per record: the label
    list shuffled, a prefix of random length 0-49 kept, the gold labels added, duplicates removed, in an order of
    the RNG's (the release's comes from a Python set). For the 167-label fine classification: 25.4 on average."""
    rng = random.Random(seeded_int("release", folder, index, sep="\n", algorithm="sha256"))
    shuffled = list(labels)
    rng.shuffle(shuffled)
    candidates = list(dict.fromkeys(shuffled[:rng.randrange(MAX_CANDIDATES)] + list(gold)))
    rng.shuffle(candidates)
    return candidates


PLACEHOLDER = re.compile(r"\{(sentences|label_set)\}")


def render_prompt(meta: dict, sentences: str, candidates: list[str]) -> str:
    """The head with the task's description, then the instruction with `{sentences}` and `{label_set}` filled in
    one pass. Not str.format: any other brace in an instruction (`{"label": ...}`) stays as written instead of
    failing, and a placeholder inside the record's text is never filled. The released instructions hold no
    other brace, so their prompts are what str.format made of them."""
    values = {"sentences": sentences, "label_set": meta["label_sep"].join(candidates)}
    return (PROMPT_HEAD.format(defi=meta["defi"])
            + PLACEHOLDER.sub(lambda match: values[match[1]], meta["test_prompt"]["instruction"]))


def ner_target(types: list[str], spans: list[dict]) -> str:
    terms_by_type: dict[str, list[str]] = {}
    for span in spans:
        terms_by_type.setdefault(span["type"], []).append(span["term"])
    return "\n".join(f"{t}: {ANSWER_SEP.join(terms_by_type.get(t, [NO_ENTITY]))}" for t in types)


def build_doc(folder: str, meta: dict, record: dict, index: int, profile: Profile | str = Profile.DEFAULT) -> dict:
    """One lm-eval doc: the record's prompt, target and the candidates shown, with its line position. The
    `release` profile differs only in the CLS candidates (`release_candidates`)."""
    task = released_task(folder)
    candidates: list[str] = []
    if task.task_type == "CLS":
        gold = record["labels"][meta["label_key"]]
        draw = release_candidates if Profile(profile) is Profile.RELEASE else cls_candidates
        candidates = draw(label_list(meta), gold, folder, index)
        target = ANSWER_SEP.join(gold)
    elif task.task_type == "NER":
        candidates = label_list(meta)
        target = ner_target(candidates, record["spans"])
    elif task.task_type == "Condition_Extract":
        candidates = label_list(meta)
        target = ANSWER_SEP.join(span["term"] for span in record["spans"])
    elif task.task_type == "Extract":
        target = ANSWER_SEP.join(span["term"] for span in record["spans"])
    else:  # Generate
        target = record["spans"][0]["term"]
    return {
        "doc_id": index,
        "line": index + 1,
        "task_type": task.task_type,
        "lang": task.lang,
        "sentences": record["sentences"],
        "candidates": candidates,
        "prompt": render_prompt(meta, record["sentences"], candidates),
        "target": target,
    }
