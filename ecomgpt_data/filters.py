"""Instance filters: rule-based cleaning and rejection, and the pluggable model-based quality filter.

Rules (the paper's): illegal characters are removed (C0/C1 controls other than tab and newline, lone
surrogates, U+FFFD, BOM and other format characters), whitespace is normalised, and an instance is rejected
when its output is empty or when prompt input + candidates + output exceed a character bound. Exact
duplicates (same task, input, candidates and output) are rejected by the mixture builder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from ecomgpt_data.atomic_tasks import Example

DEFAULT_MAX_CHARS = 2048
ILLEGAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufeff\u200b-\u200f\u2028\u2029\u202a-\u202e]")
SPACES = re.compile(r"[ \t\u00a0\u3000]+")
BLANK_LINES = re.compile(r"\n{3,}")

QualityFilter = Callable[[str, str], bool]  # (prompt, response) -> keep?


# A text needs cleaning when it has an illegal character, a tab, CR or wide space, two spaces, a space beside a
# newline, three newlines, or whitespace at either end. Most texts are tidy, so this is asked of every text:
# one character-class scan plus substring tests (C loops) take a third of the time of one regex holding the
# alternatives, whose `^\s`/`\s$` branches leave the regex engine no fast first-character scan.
UNTIDY_CHARS = re.compile(ILLEGAL.pattern[:-1] + "\t\r\u00a0\u3000]")


def needs_cleaning(text: str) -> bool:
    return (UNTIDY_CHARS.search(text) is not None or "  " in text or " \n" in text or "\n " in text
            or "\n\n\n" in text or text[:1].isspace() or text[-1:].isspace())


def clean(text: str) -> tuple[str, bool]:
    """(the text with illegal characters removed and whitespace normalised, whether it had illegal ones)."""
    if not needs_cleaning(text):
        return text, False
    illegal = ILLEGAL.search(text) is not None
    text = ILLEGAL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return BLANK_LINES.sub("\n\n", text).strip(), illegal


clean_label = lru_cache(maxsize=1 << 14)(clean)  # candidate labels repeat across a task's instances


@dataclass(frozen=True)
class RuleFilter:
    max_chars: int = DEFAULT_MAX_CHARS

    def apply(self, example: Example) -> tuple[Example | None, str | None, bool]:
        """(cleaned example or None, rejection reason or None, whether illegal characters were removed)."""
        text, bad_input = clean(example.input)
        output, bad_output = clean(example.output)
        candidates, had_illegal = example.candidates, bad_input or bad_output
        if candidates:
            labels = [clean_label(c) for c in candidates]
            had_illegal = had_illegal or any(bad for _, bad in labels)
            candidates = tuple(label for label, _ in labels)
        if text is not example.input or output is not example.output or candidates != example.candidates:
            example = replace(example, input=text, output=output, candidates=candidates)
        if not output:
            return None, "empty_output", had_illegal
        if not text:
            return None, "empty_input", had_illegal
        size = len(text) + len(output) + (sum(map(len, candidates)) + 2 * len(candidates) if candidates else 0)
        if size > self.max_chars:
            return None, "too_long", had_illegal
        return example, None, had_illegal


def hf_quality_filter(model: str, keep_label: str, threshold: float = 0.5) -> QualityFilter:
    """A quality filter from a Hugging Face text-classification model (a hub id or a local folder): keep an
    instance when the model gives `keep_label` a score of at least `threshold` for `prompt + response`."""
    from transformers import pipeline

    classify = pipeline("text-classification", model=model, top_k=None, truncation=True)

    def keep(prompt: str, response: str) -> bool:
        scores = {item["label"]: item["score"] for item in classify([f"{prompt}\n{response}"])[0]}
        if keep_label not in scores:
            raise ValueError(f"quality model {model} has no label {keep_label!r}; it has {sorted(scores)}")
        return scores[keep_label] >= threshold

    return keep
