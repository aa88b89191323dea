"""Chinese product-review aspect polarity (Peng et al. 2018, via PyABSA) (zh): camera, car, notebook, phone.

Each instance is 3 lines: the sentence with the aspect replaced by `$T$` (every mention; characters
space-separated),
the aspect, the polarity. Consecutive instances of the same sentence become one record with all its
aspects as spans typed by polarity; the file's domain is a label.
"""

from __future__ import annotations

from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import Malformed, Record, Span, unspace_cjk
from ecomgpt_data.sources import Source, register, task_factory

NAME = "chinese_product_absa_peng2018"
DOMAINS = {"camera": "相机", "car": "汽车", "notebook": "笔记本电脑", "phone": "手机"}
POLARITIES = {"Positive": "正面", "Negative": "负面"}


def files(root: Path) -> list[Path]:
    return [root / f"{domain}.{split}.txt" for domain in DOMAINS for split in ("train", "test")]


def _instances(path: Path, root: Path):
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    while lines and not lines[-1].strip():
        lines.pop()
    where = path.relative_to(root).as_posix()
    if len(lines) % 3:
        yield Malformed(f"{where}:{len(lines)}", f"{len(lines)} lines is not a multiple of 3 (sentence, aspect, polarity)")
        return
    for i in range(0, len(lines), 3):
        masked, aspect, polarity = lines[i:i + 3]
        origin = f"{where}:{i + 1}"
        if "$T$" not in masked:
            yield Malformed(origin, "the sentence holds no $T$")
        elif polarity not in POLARITIES:
            yield Malformed(f"{where}:{i + 3}", f"unknown polarity {polarity!r}")
        elif not aspect.strip():
            yield Malformed(f"{where}:{i + 2}", "empty aspect")
        else:
            term = unspace_cjk(aspect.strip())
            # An aspect said twice is masked twice; the span is its first mention.
            before, after = (unspace_cjk(part.strip()) for part in masked.split("$T$", 1))
            after = after.replace("$T$", term)
            yield origin, before, term, after, POLARITIES[polarity]


def _sentence_record(group: list, domain: str) -> Record:
    origin, before, term, after, _ = group[0]
    spans = [Span(t, polarity, len(b), len(b) + len(t)) for _, b, t, _, polarity in group]
    return Record(NAME, origin, "zh", "review", before + term + after, labels={"domain": (domain,)},
                  spans=tuple(dict.fromkeys(spans)))


def read(root: Path):
    for path in files(root):
        domain = DOMAINS[path.name.split(".")[0]]
        group: list = []
        for item in _instances(path, root):
            if isinstance(item, Malformed):
                yield item
                continue
            if group and group[0][1] + group[0][2] + group[0][3] != item[1] + item[2] + item[3]:
                yield _sentence_record(group, domain)
                group = []
            group.append(item)
        if group:
            yield _sentence_record(group, domain)


_task = task_factory("product_absa_zh", NAME, "zh")


register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("aspect_polarity", "CLS", "original", "aspect_polarity", ("aspect sentiment classification", "方面情感分类"),
              at.aspect_polarity(tuple(POLARITIES.values()))),
        _task("aspect_extraction", "EXT", "simplification", "aspect_extraction", ("aspect term extraction", "方面词抽取"),
              at.aspect_extraction()),
        _task("aspect_sentiment_extraction", "NER", "recombination", "aspect_sentiment",
              ("aspect sentiment pair extraction", "方面情感对抽取"), at.ner(tuple(POLARITIES.values()))),
        _task("product_domain", "CLS", "simplification", "classify", ("review product domain classification", "评论商品领域分类"),
              at.classify("domain", tuple(DOMAINS.values()))),
    ),
))
