"""Amazon Multilingual Counterfactual Dataset, English parts (en): is a review sentence counterfactual?

Files `data/EN_{train,valid,test}.tsv` and `data/EN-ext_{train,valid,test}.tsv`, header
`sentence<TAB>is_counterfactual`. Traps (see SOURCE.md): EN-ext files have CRLF line endings, quoted sentences
(read with the csv module, never split on tabs), and EN and EN-ext share 2,918 sentences (308 EN test
sentences sit in EN-ext train): every sentence is yielded once, from the first file that has it, and the
repeats are skipped and counted. The clue-word list gives the clue extraction task its vocabulary.
"""

from __future__ import annotations

import re
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped, delimited_files
from ecomgpt_data.sources import Source, register, task_factory

NAME = "amazon_counterfactual_reviews_en"
SPLITS = [f"data/{part}_{split}.tsv" for part in ("EN", "EN-ext") for split in ("train", "valid", "test")]
CLUES = "clue_words/counterfactual_clue_words_en.txt"
HEADER = ("sentence", "is_counterfactual")
LABELS = ("counterfactual", "not counterfactual")


def files(root: Path) -> list[Path]:
    return [root / name for name in SPLITS] + [root / CLUES]


def clue_pattern(root: Path) -> re.Pattern:
    words = [w.strip() for w in (root / CLUES).read_text(encoding="utf-8", errors="surrogateescape").splitlines()]
    words = sorted({w for w in words if w}, key=len, reverse=True)  # longest first: "would have" before "would"
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def read(root: Path):
    clues = clue_pattern(root)
    seen = FirstSeen()
    for item in delimited_files(root, SPLITS, "\t", HEADER):
        if isinstance(item, Malformed):
            yield item
            continue
        where, row = item
        sentence, flag = row["sentence"].strip(), row["is_counterfactual"].strip()
        if flag not in ("0", "1"):
            yield Malformed(where, f"is_counterfactual is {flag!r}, not 0 or 1")
        elif not sentence:
            yield Skipped(where, "empty sentence")
        elif seen.again(sentence):
            yield Skipped(where, "sentence already read from another split")
        else:
            labels = {"counterfactual": (LABELS[0] if flag == "1" else LABELS[1],)}
            if flag == "1":  # clue words matter only where they make a statement counterfactual
                labels["clue"] = tuple(dict.fromkeys(m.group(0).lower() for m in clues.finditer(sentence)))
            yield Record(NAME, where, "en", "review", sentence, labels=labels)


def counterfactual_select(distractors: int = 3):
    """Recombination: a counterfactual sentence among plain sentences of earlier records."""
    def build(record: Record, ctx: at.BuildContext) -> list[at.Example]:
        if record.labels["counterfactual"] != (LABELS[0],):
            return []
        plain = list(dict.fromkeys(r.text for r in ctx.pool if r.labels.get("counterfactual") == (LABELS[1],)))
        if len(plain) < distractors:
            return []
        options = ctx.rng.sample(plain, distractors) + [record.text]
        ctx.rng.shuffle(options)
        listed = "\n".join(f"({i}) {option}" for i, option in enumerate(options, 1))
        return [at.Example(record.id, f"Sentences:\n{listed}", record.text)]
    return build


_task = task_factory("amcd", NAME, "en")


register(Source(
    name=NAME, lang="en", folder=NAME, files=files, read=read,
    derived_from=("Amazon reviews (McAuley)",),
    tasks=(
        _task("counterfactual_detection", "CLS", "original", "classify",
              ("counterfactual statement detection", "反事实陈述检测"), at.classify("counterfactual", LABELS)),
        _task("clue_extraction", "EXT", "simplification", "extract",
              ("counterfactual clue word extraction", "反事实线索词抽取"), at.labelled_items("clue")),
        _task("counterfactual_select", "EXT", "recombination", "select",
              ("picking the counterfactual sentence among review sentences", "从评论句中挑选反事实陈述"),
              counterfactual_select()),
    ),
))
