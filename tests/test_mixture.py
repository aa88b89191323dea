"""The mixture build: guard, determinism, nesting of scaling subsets, ablations, errors, output and CLI."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from ecomgpt_data.cli import main as data_main
from ecomgpt_data.config import ConfigError, MixtureConfig, load_config
from ecomgpt_data.guard import HeldOutGuard, HeldOutSourceError, normalise, units
from ecomgpt_data.mixture import BuildError, build
from ecomgpt_data.records import RawDataError
from ecomgpt_data.sources import load_sources
from planted import plant_absa_review

ALL_TASKS = {t.name: t for s in load_sources().values() for t in s.tasks}


def make(raw, out, **options) -> tuple[dict, list[dict]]:
    config = MixtureConfig(raw_dir=str(raw), **options).validate()
    manifest = build(config, out, progress=False)
    rows = [json.loads(line) for line in (out / "mixture.jsonl").read_text(encoding="utf-8").splitlines()]
    return manifest, rows


@pytest.fixture(scope="module")
def full(raw_fixture_dir, tmp_path_factory):
    return make(raw_fixture_dir, tmp_path_factory.mktemp("mix") / "full")


BUCKETS = ("guard_dropped", "empty_output", "empty_input", "too_long", "duplicates", "quality_dropped", "over_quota",
           "selected")


def assert_every_instance_accounted(manifest):
    for name, counts in manifest["tasks"].items():
        assert counts.get("generated", 0) == sum(counts.get(k, 0) for k in BUCKETS), (name, counts)


def ids(rows):
    return {r["id"] for r in rows}


def test_full_fixture_build_covers_every_task_with_consistent_columns(full):
    manifest, rows = full
    assert set(manifest["tasks"]) == set(ALL_TASKS)
    built = {r["task"] for r in rows}
    assert len(built) >= 45
    for row in rows:
        task = ALL_TASKS[row["task"]]
        assert (row["source"], row["paradigm"], row["lang"], row["cot"]) == (task.source, task.paradigm, task.lang, task.cot)
        assert row["prompt"].startswith("Below is an instruction that describes the ")
        assert row["prompt"].endswith("\n### Response:") and row["response"]
    assert len(ids(rows)) == len(rows)
    counts = manifest["tasks"]["wands.query_classification"]
    assert counts["generated"] == counts["selected"] == 3
    assert_every_instance_accounted(manifest)
    assert manifest["sources"]["wands_queries"]["skipped"] == {"query without a class": 1}
    assert manifest["sources"]["online_shopping_10_cats"]["files"]["online_shopping_10_cats.zip"]
    assert manifest["totals"]["selected"] == len(rows)


def test_same_inputs_give_a_byte_identical_mixture(raw_fixture_dir, tmp_path):
    make(raw_fixture_dir, tmp_path / "a", seed=7)
    make(raw_fixture_dir, tmp_path / "b", seed=7)
    make(raw_fixture_dir, tmp_path / "c", seed=8)
    a, b, c = ((tmp_path / n / "mixture.jsonl").read_bytes() for n in "abc")
    assert a == b
    assert a != c


def test_workers_give_the_bytes_of_one_process(raw_fixture_dir, tmp_path, monkeypatch):
    """--workers 2 reads the sources in two processes; the mixture and manifest are those of one, whether the
    sources are streamed (and their selection logs written) or replayed from those logs."""
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "cache"))  # no other test's selection logs
    config = MixtureConfig(raw_dir=str(raw_fixture_dir), seed=7).validate()
    build(config, tmp_path / "one", progress=False, cache=False)
    build(config, tmp_path / "streamed", progress=False, workers=2)  # writes the selection logs
    build(config, tmp_path / "replayed", progress=False, workers=2)
    files = ("mixture.jsonl", "manifest.json")
    one = [(tmp_path / "one" / f).read_bytes() for f in files]
    assert [(tmp_path / "streamed" / f).read_bytes() for f in files][0] == one[0]
    streamed, replayed = (json.loads((tmp_path / n / "manifest.json").read_text()) for n in ("streamed", "replayed"))
    assert replayed["selection_logs"]["replayed"] == streamed["selection_logs"]["written"] != []
    for manifest in (streamed, replayed):  # equal but for which selection logs were used
        manifest.pop("selection_logs")
        plain = json.loads(one[1])
        plain.pop("selection_logs")
        assert manifest == plain
    assert (tmp_path / "replayed" / "mixture.jsonl").read_bytes() == one[0]
    # bad input in a worker is one line, as with one process
    broken = tmp_path / "broken_raw"
    shutil.copytree(raw_fixture_dir, broken)
    (broken / "wands_queries" / "query.csv").write_bytes(b"")
    with pytest.raises(BuildError, match="source wands_queries yielded no record"):
        build(MixtureConfig(raw_dir=str(broken)).validate(), tmp_path / "bad", progress=False, cache=False, workers=2)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(BuildError, match="--workers 0"):
        build(config, tmp_path / "none", progress=False, workers=0)


@pytest.mark.slow
def test_scaling_subsets_nest(raw_fixture_dir, tmp_path):
    _, big = make(raw_fixture_dir, tmp_path / "big", per_task=3)
    small_manifest, small = make(raw_fixture_dir, tmp_path / "small", per_task=1)
    _, few = make(raw_fixture_dir, tmp_path / "few", per_task=3, num_tasks=10)
    _, fewer = make(raw_fixture_dir, tmp_path / "fewer", per_task=1, num_tasks=4)
    assert ids(small) < ids(big) and ids(few) < ids(big) and ids(fewer) < ids(few) and ids(fewer) < ids(small)
    assert len({r["task"] for r in few}) == 10 and len({r["task"] for r in fewer}) == 4
    assert max(sum(r["task"] == t for r in small) for t in ALL_TASKS) == 1
    assert_every_instance_accounted(small_manifest)
    # The same rows, not just the same ids.
    by_id = {r["id"]: r for r in big}
    assert all(by_id[r["id"]] == r for r in few)


def _without(rows, predicate):
    return {r["id"] for r in rows if not predicate(r)}


@pytest.mark.parametrize("options, removed", [
    ({"no_golden_cot": True}, lambda r: r["cot"] == "golden_cot"),
    ({"drop_paradigms": ["NER"]}, lambda r: r["paradigm"] == "NER"),
    ({"drop_sources": ["subjqa_products"]}, lambda r: r["source"] == "subjqa_products"),
    ({"lang": "en"}, lambda r: r["lang"] == "zh"),
])
def test_ablation_removes_what_it_names_and_nothing_else(full, raw_fixture_dir, tmp_path, options, removed):
    _, rows = full
    _, ablated = make(raw_fixture_dir, tmp_path / "ablated", **options)
    assert ids(ablated) == _without(rows, removed)
    assert any(removed(r) for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert all(by_id[r["id"]] == r for r in ablated)


@pytest.mark.slow
def test_prompt_ablations_change_only_the_prompt(full, raw_fixture_dir, tmp_path):
    _, rows = full
    by_id = {r["id"]: r for r in rows}
    for options, check in [
        ({"no_description": True}, lambda new, old: new.startswith("Below is an instruction that describes a task.")),
        ({"no_constraints": True}, lambda new, old: len(new) < len(old)),
        ({"narrow_prompts": True}, lambda new, old: True),
    ]:
        _, ablated = make(raw_fixture_dir, tmp_path / str(len(options)) / next(iter(options)), **options)
        assert ids(ablated) == set(by_id)
        for row in ablated:
            old = by_id[row["id"]]
            assert {k: v for k, v in row.items() if k != "prompt"} == {k: v for k, v in old.items() if k != "prompt"}
            assert check(row["prompt"], old["prompt"])
    _, narrow = make(raw_fixture_dir, tmp_path / "narrow2", narrow_prompts=True)
    prompts_per_paradigm = {}
    for row in narrow:
        instruction_line = row["prompt"].split("\n### Response:")[0].rsplit("\n", 1)[1]
        prompts_per_paradigm.setdefault(row["paradigm"], set()).add(instruction_line.split(" Candidates:")[0].split(" Answer")[0].split(" Copy")[0].split(" Write")[0])
    assert all(len(v) == 1 for v in prompts_per_paradigm.values()), prompts_per_paradigm


def test_pseudo_cot_switch_and_jsonl_source(raw_fixture_dir, tmp_path):
    data = tmp_path / "pseudo.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"sentences": "cheap wireless earbuds for running", "labels": {"intent": ["buy"]}},
        {"sentences": "how to clean suede shoes", "labels": {"intent": ["learn"]}},
        {"sentences": "acme phone case red", "spans": [{"term": "acme", "type": "brand"}]},
    ]) + "\n", encoding="utf-8")
    spec = {"name": "query_pseudo", "path": str(data), "lang": "en", "cot": "pseudo_cot"}
    _, rows = make(raw_fixture_dir, tmp_path / "with", jsonl_sources=[spec], sources=["query_pseudo", "wands_queries"])
    pseudo = [r for r in rows if r["source"] == "query_pseudo"]
    assert {r["task"] for r in pseudo} == {"query_pseudo.classify_intent", "query_pseudo.ner", "query_pseudo.span_detection",
                                           "query_pseudo.entity_typing", "query_pseudo.typed_extraction"}
    assert {r["cot"] for r in pseudo} == {"pseudo_cot"}
    _, without = make(raw_fixture_dir, tmp_path / "without", jsonl_sources=[spec], sources=["query_pseudo", "wands_queries"],
                      no_pseudo_cot=True)
    assert ids(without) == {r["id"] for r in rows if r["source"] != "query_pseudo"}


def test_guard_drops_a_planted_evaluation_sentence_and_counts_it(raw_fixture_dir, eval_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    lenovo = eval_dir / "Lenovo/tasks/EN-Lenovo-NER-NER/test.json"
    sentence = json.loads(lenovo.read_text(encoding="utf-8").splitlines()[3])["sentences"]
    qa = eval_dir / "Reddit_QA/tasks/EN-Reddit_QA-Extract-Extract_QA/test.json"
    context = json.loads(qa.read_text(encoding="utf-8").splitlines()[0])["sentences"][9:209]  # a 200-character piece
    with (raw / "wands_queries/query.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"9\t{sentence.upper()}\tSofas\n10\tabout: {context} and more\tSofas\n")
    manifest, rows = make(raw, tmp_path / "out", sources=["wands_queries"])
    assert manifest["sources"]["wands_queries"]["guard_dropped_records"] == 2
    assert manifest["tasks"]["wands.query_classification"]["guard_dropped"] == 2
    assert manifest["tasks"]["wands.query_generation"]["guard_dropped"] == 2
    assert {r["id"].split("/", 1)[1] for r in rows} == {"query.csv:2", "query.csv:3", "query.csv:5"}
    assert not any(normalise(sentence) in normalise(r["prompt"] + r["response"]) for r in rows)


def test_guard_runs_over_the_new_sources_and_their_counts_show_it(raw_fixture_dir, eval_dir, tmp_path):
    """A held-out ABSA sentence planted in the counterfactual reviews and a held-out OpenBG product text as a
    KOBE description are dropped, and the per-source counts say so."""
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    sentence = plant_absa_review(raw, eval_dir)
    title = eval_dir / "OpenBG_Align/tasks/ZH-OpenBG_Align-Generate-title_generate/test.json"
    held_title = json.loads(title.read_text(encoding="utf-8").splitlines()[2])["sentences"]  # its attribute text
    with (raw / "kobe_taodescribe_test/test.src.str").open("a", encoding="utf-8") as src, \
            (raw / "kobe_taodescribe_test/test.tgt.str").open("a", encoding="utf-8") as tgt:
        src.write("<1> <a> " + " ".join("新款保温杯") + "\n")
        tgt.write(" ".join(held_title) + "\n")
    manifest, rows = make(raw, tmp_path / "out", sources=["amazon_counterfactual_reviews_en", "kobe_taodescribe_test"])
    assert manifest["sources"]["amazon_counterfactual_reviews_en"]["guard_dropped_records"] == 1
    assert manifest["sources"]["kobe_taodescribe_test"]["guard_dropped_records"] == 1
    assert manifest["tasks"]["amcd.counterfactual_detection"]["guard_dropped"] == 1
    text = "".join(r["prompt"] + r["response"] for r in rows)
    assert normalise(sentence) not in normalise(text) and normalise(held_title)[:32] not in normalise(text)
    assert_every_instance_accounted(manifest)


def test_guard_rules_ngrams_containment_and_equality():
    held = ["The quick brown fox jumps over the lazy dog near the river bank",  # 52 chars: 32-char pieces
            "Red sofa cover for a living room",  # 7 words, 26 chars: containment
            "层次分明的撞色连衣裙",  # a 10-character Chinese title: 10 units, containment
            "soft red sofa", "撞色连衣裙", "!!!"]  # 3 and 5 units: equality only; no letter at all: unguardable
    guard = HeldOutGuard(held)
    assert guard.match("prefix: the QUICK brown-fox jumps over the lazy dog... suffix")[0] == "ngram"
    assert guard.match("buy a RED sofa-cover for a living room today") == ("containment", held[1])
    assert guard.match("夏季新款层次分明的撞色连衣裙女") == ("containment", held[2])
    assert guard.match("Soft red SOFA!") == ("equality", held[3])
    assert guard.match("撞色连衣裙") == ("equality", held[4])
    assert guard.match("a soft red sofa for two") is None  # too generic to guard by containment
    assert guard.match("新款撞色连衣裙") is None
    assert guard.match("the quick brown cat") is None
    summary = guard.summary()
    assert summary["guarded_by"] == {"equality": 2, "containment": 2, "ngram": 1}
    assert summary["unguarded"] == 1 and summary["unguarded_texts"] == ["!!!"]
    assert units("层次分明的撞色连衣裙") == 10 and units("Red sofa cover, 2 pcs") == 5


def test_guard_screen_lets_through_no_window_the_exact_check_would_drop():
    """The Aho-Corasick screen (16-character anchors at every 16th position, containment texts) must pass on
    every text the exact check drops: a held-out text's every 32-character window, at every offset, inside
    unrelated text, and windows one character short of 32, which neither may drop."""
    held = "Stainless steel insulated water bottle with a leak proof lid keeps drinks cold for 24 hours"
    key = normalise(held)
    guard = HeldOutGuard([held, "Red sofa cover for a living room"])
    for start in range(len(key) - 32 + 1):
        window = key[start:start + 32]
        assert guard.match(f"zz {window} qq") == ("ngram", held), start
        assert guard.match(f"zz {window[:31]} qq {window[1:]}") is None, start  # 31 + 31 characters: no 32
    assert guard.match("a cover: red sofa cover for a living room!") == ("containment", "Red sofa cover for a living room")
    assert guard.match("Stainless steel insulated water") is None  # 28 characters: an anchor, no 32
    assert HeldOutGuard(["!!!"]).match("anything at all here") is None  # nothing guardable: no screen


def test_short_mepave_title_planted_in_a_raw_source_is_dropped(raw_fixture_dir, eval_dir, tmp_path):
    """Every held-out text is guarded: a 10-character MEPAVE title planted as a sentence of a raw NER source
    is dropped (it was let through while only texts of 12+ characters were guarded)."""
    import json as _json

    title = next(t for t in (_json.loads(line)["sentences"] for line in (
        eval_dir / "MEPAVE/tasks/ZH-MEPAVE-NER-attribute_value_extraction/test.json").read_text(encoding="utf-8")
        .splitlines() if line.strip()) if len(normalise(t)) < 12)
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    path = raw / "ecommerce_ner_ding2019" / "train.txt.bieos"
    planted = "".join(f"{char}\tO\n" for char in title) + "\n"
    path.write_text(planted + path.read_text(encoding="utf-8"), encoding="utf-8")
    manifest, rows = make(raw, tmp_path / "out", sources=["ecommerce_ner_ding2019"])
    assert not [r for r in rows if normalise(title) in normalise(r["prompt"])]
    guard = manifest["guard"]
    assert guard["dropped_records_by_rule"]["equality"] + guard["dropped_records_by_rule"]["containment"] >= 1
    assert any(e["held_out_text"] == title for e in guard["dropped_examples"])
    assert guard["unguarded"] == 0


def test_a_held_out_dataset_as_source_is_refused(raw_fixture_dir, eval_dir, tmp_path):
    data = tmp_path / "mepave.jsonl"
    data.write_text(json.dumps({"sentences": "x", "labels": {"k": ["a"]}}) + "\n")
    with pytest.raises(HeldOutSourceError, match="held-out evaluation dataset 'MEPAVE'"):
        make(raw_fixture_dir, tmp_path / "o1", jsonl_sources=[{"name": "MEPAVE", "path": str(data), "lang": "zh"}])
    released = eval_dir / "ABSA/tasks/EN-ABSA-CLS-review_topic_category/test.json"
    copy = tmp_path / "renamed.jsonl"
    shutil.copy(released, copy)
    with pytest.raises(HeldOutSourceError, match="is the released evaluation file ABSA/tasks"):
        make(raw_fixture_dir, tmp_path / "o2", jsonl_sources=[{"name": "my_reviews", "path": str(copy), "lang": "en"}])
    own_eval = tmp_path / "eval"
    shutil.copytree(eval_dir, own_eval)
    inside = own_eval / "notes.jsonl"
    inside.write_text(json.dumps({"sentences": "y", "labels": {"k": ["b"]}}) + "\n")
    with pytest.raises(HeldOutSourceError, match="inside the evaluation folder"):
        make(raw_fixture_dir, tmp_path / "o3", eval_dir=str(own_eval),
             jsonl_sources=[{"name": "mine", "path": str(inside), "lang": "en"}])
    assert not any((tmp_path / name).exists() for name in ("o1", "o2", "o3"))


def test_build_needs_the_evaluation_sets_for_the_guard(raw_fixture_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("ECOMGPT_EVAL_DIR", raising=False)
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "empty-cache"))
    with pytest.raises(BuildError, match="held-out guard needs the evaluation sets"):
        make(raw_fixture_dir, tmp_path / "out", sources=["wands_queries"])
    manifest, _ = make(raw_fixture_dir, tmp_path / "out", sources=["wands_queries"], unsafe_no_guard=True)
    assert manifest["guard"] == {"disabled": True}


def test_malformed_record_stops_with_file_and_line_or_is_skipped_and_counted(raw_fixture_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    with (raw / "wands_queries/query.csv").open("a", encoding="utf-8") as handle:
        handle.write("9 no tabs here\n")
    with pytest.raises(RawDataError, match=r"wands_queries/query.csv:6: expected query_id"):
        make(raw, tmp_path / "out", sources=["wands_queries"])
    assert not (tmp_path / "out").exists()
    manifest, rows = make(raw, tmp_path / "out", sources=["wands_queries"], on_error="skip")
    report = manifest["sources"]["wands_queries"]
    assert report["malformed"] == 1 and report["malformed_examples"][0].endswith("query.csv:6: expected query_id, a "
                                                                                 "query and query_class separated by tabs")
    assert report["records"] == 3 and len(rows) == 6


def test_rule_filters_are_counted(raw_fixture_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    with (raw / "wands_queries/query.csv").open("a", encoding="utf-8") as handle:
        handle.write("9\tvelvet\u0007 sofa\tSofas\n10\tvelvet sofa\tSofas\n11\t" + "long " * 100 + "\tSofas\n")
    manifest, rows = make(raw, tmp_path / "out", sources=["wands_queries"], max_chars=200)
    counts = manifest["tasks"]["wands.query_generation"]
    assert counts["illegal_chars_removed"] == 1
    assert counts["duplicates"] == 2  # the cleaned copy and the plain copy of "velvet sofa"
    assert counts["too_long"] == 1
    assert counts["generated"] == 6 and counts["selected"] == 3
    assert_every_instance_accounted(manifest)


def test_quality_filter_callable_sees_rendered_instances(raw_fixture_dir, tmp_path):
    seen = []

    def keep(prompt, response):
        seen.append(response)
        return response != "Sofas"

    config = MixtureConfig(raw_dir=str(raw_fixture_dir), sources=["wands_queries"]).validate()
    manifest = build(config, tmp_path / "out", quality_filter=keep, progress=False)
    counts = manifest["tasks"]["wands.query_classification"]
    assert counts["quality_checked"] == 3 and counts["quality_dropped"] == 2 and counts["selected"] == 1
    assert_every_instance_accounted(manifest)
    assert seen.count("Sofas") == 2


def test_output_is_atomic_and_not_overwritten_by_default(raw_fixture_dir, tmp_path):
    out = tmp_path / "out"
    make(raw_fixture_dir, out, sources=["wands_queries"])
    with pytest.raises(BuildError, match="exists; pass --overwrite"):
        make(raw_fixture_dir, out, sources=["wands_queries"])
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "dataset", "manifest.json", "mixture.jsonl"]
    assert not list(tmp_path.glob(".out.partial-*"))


def test_saved_dataset_has_the_jsonl_rows_in_trl_columns(raw_fixture_dir, tmp_path):
    from datasets import load_from_disk

    _, rows = make(raw_fixture_dir, tmp_path / "out", sources=["semeval_absa_laptops"])
    dataset = load_from_disk(str(tmp_path / "out" / "dataset"))
    assert dataset.column_names == ["id", "task", "source", "paradigm", "lang", "cot", "strategy", "prompt", "completion"]
    assert dataset.to_list() == [{**{k: v for k, v in r.items() if k != "response"}, "completion": "\n" + r["response"]}
                                 for r in rows]


def test_config_file_and_command_line(raw_fixture_dir, tmp_path, capsys):
    config = tmp_path / "mixture.yaml"
    config.write_text("per_task: 1\nsources: [wands_queries, sgd_intent_subset]\nprompt_lang: zh\n", encoding="utf-8")
    out = tmp_path / "out"
    assert data_main(["build", "--raw-dir", str(raw_fixture_dir), "--out", str(out), "--config", str(config),
                      "--drop-paradigm", "NER", "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["per_task"] == 1 and manifest["config"]["drop_paradigms"] == ["NER"]
    rows = [json.loads(line) for line in (out / "mixture.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["source"] for r in rows} == {"wands_queries", "sgd_intent_subset"}
    assert "NER" not in {r["paradigm"] for r in rows} and len(rows) == len({r["task"] for r in rows})
    assert all("### Instruction:" in r["prompt"] and any("\u4e00" <= ch <= "\u9fff" for ch in r["prompt"]) for r in rows)
    capsys.readouterr()
    assert data_main(["stats", str(out)]) == 0
    table = capsys.readouterr().out
    assert "wands.query_classification" in table and "CLS" in table
    assert f"total     {len(rows)} tasks / {len(rows)} instances" in table

    config.write_text("per_tasks: 1\n", encoding="utf-8")
    assert data_main(["build", "--out", str(tmp_path / "o2"), "--config", str(config)]) == 2
    assert "unknown option(s) ['per_tasks']" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="prompt_lang must be one of"):
        load_config(None, {"prompt_lang": "fr"})
    assert data_main(["build", "--out", str(tmp_path / "o3"), "--raw-dir", str(raw_fixture_dir),
                      "--source", "nope"]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_real_raw_data_builds_with_every_task(raw_dir, tmp_path):
    """The shipped datasets build with the default on-error=raise: no malformed record anywhere."""
    manifest, rows = make(raw_dir, tmp_path / "real", per_task=20)
    built = {r["task"] for r in rows}
    assert built == set(ALL_TASKS) and len(built) >= 110  # every task of the 27 sources has instances
    assert len(manifest["sources"]) == 27
    assert {r["paradigm"] for r in rows} == {"CLS", "EXT", "GEN", "NER"} and {r["lang"] for r in rows} == {"en", "zh"}
    assert all(report["malformed"] == 0 for report in manifest["sources"].values())
    assert manifest["totals"]["selected"] == len(rows)
    assert_every_instance_accounted(manifest)
    assert all(t["selected"] == 20 or not t.get("over_quota") for t in manifest["tasks"].values())


def test_readme_worked_example_adds_a_source(raw_fixture_dir, tmp_path, monkeypatch):
    import sys

    from ecomgpt_data.sources import REGISTRY

    readme = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    block = readme.split("<!-- source-example -->\n```python\n", 1)[1].split("```\n<!-- /source-example -->", 1)[0]
    package = tmp_path / "code"
    package.mkdir()
    (package / "my_reviews_source.py").write_text(block, encoding="utf-8")
    monkeypatch.syspath_prepend(str(package))
    raw = tmp_path / "raw"
    (raw / "my_reviews").mkdir(parents=True)
    (raw / "my_reviews" / "reviews.tsv").write_text("Great blender, quiet and fast\t5\nBroke after a week\t1\n")
    try:
        manifest, rows = make(raw, tmp_path / "out", source_modules=["my_reviews_source"], sources=["my_reviews"])
    finally:
        REGISTRY.pop("my_reviews", None)
        sys.modules.pop("my_reviews_source", None)
    assert {r["task"] for r in rows} == {"my_reviews.rating", "my_reviews.review_writing"}
    rating = {r["response"] for r in rows if r["task"] == "my_reviews.rating"}
    assert rating == {"5", "1"}
    assert manifest["sources"]["my_reviews"]["records"] == 2


@pytest.fixture(scope="module")
def tiny_quality_model(tmp_path_factory):
    """A random two-label BLOOM sequence classifier saved locally (stands in for a real quality model)."""
    import torch
    from transformers import BloomConfig, BloomForSequenceClassification

    from ecomgpt.tiny_bloom import train_tokenizer

    tokenizer = train_tokenizer(["velvet sofa", "round mirror", "gray sectional", "意图识别"], vocab_size=300)
    config = BloomConfig(vocab_size=len(tokenizer), hidden_size=16, n_layer=1, n_head=2, num_labels=2,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("quality")
    BloomForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_hugging_face_quality_model_from_the_command_line(raw_fixture_dir, tiny_quality_model, tmp_path, capsys):
    from ecomgpt_data.filters import hf_quality_filter

    keep = hf_quality_filter(str(tiny_quality_model), "LABEL_1", threshold=0.0)
    assert keep("prompt", "response") is True
    strict = hf_quality_filter(str(tiny_quality_model), "LABEL_1", threshold=1.01)
    assert strict("prompt", "response") is False
    with pytest.raises(ValueError, match="has no label 'GOOD'"):
        hf_quality_filter(str(tiny_quality_model), "GOOD")("p", "r")

    common = ["build", "--raw-dir", str(raw_fixture_dir), "--source", "wands_queries", "--no-progress",
              "--quality-model", str(tiny_quality_model), "--quality-label", "LABEL_1"]
    assert data_main([*common, "--out", str(tmp_path / "all"), "--quality-threshold", "0"]) == 0
    assert data_main([*common, "--out", str(tmp_path / "none"), "--quality-threshold", "1.01"]) == 2
    assert "no instance survived the filters" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "all" / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["tasks"]["wands.query_generation"]
    assert counts["quality_checked"] == 3 and counts.get("quality_dropped", 0) == 0 and counts["selected"] == 3
    assert not (tmp_path / "none").exists()


def test_mixed_prompt_language(raw_fixture_dir, tmp_path):
    _, rows = make(raw_fixture_dir, tmp_path / "mixed", prompt_lang="mixed", sources=["product_matching_magellan"])
    has_chinese = [any("\u4e00" <= ch <= "\u9fff" for ch in r["prompt"]) for r in rows]
    assert any(has_chinese) and not all(has_chinese)


def test_the_guard_names_a_missing_evaluation_file(raw_fixture_dir, eval_dir, tmp_path, capsys):
    import shutil as _shutil

    from ecomgpt_data.cli import main as data_main

    partial = tmp_path / "eval"
    _shutil.copytree(eval_dir, partial)
    missing = next(partial.glob("Lenovo/tasks/*/test.json"))
    missing.unlink()
    assert data_main(["build", "--raw-dir", str(raw_fixture_dir), "--eval-dir", str(partial), "--source",
                      "wands_queries", "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{missing} is missing" in err and err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_the_pool_resolves_the_verdicts_resolving_every_entry_on_each_read_would():
    """The pool keeps its clean records and the newcomers apart; reads, records and the verdicts it asks (which
    the guard's counts and the selection logs record) are those of a pool that walks all its entries from the
    newest back on every read, on a random stream of joins and reads."""
    from ecomgpt_data.mixture import GuardVerdict, RecentRecords

    def reference(size, slack, events, held_out):
        entries, asked, reads = [], [], []

        def trim():
            nonlocal entries
            kept = []
            for number in reversed(entries):
                if len(kept) == size:
                    break
                asked.append(number)
                if not held_out[number]:
                    kept.append(number)
            entries = kept[::-1]
        for event in events:
            if event == "read":
                trim()
                reads.append(list(entries))
            else:
                entries.append(event)
                if len(entries) > size + slack:
                    trim()
        return reads, sorted(set(asked))

    rng = random.Random(7)
    for size, slack, reading in ((3, 2, 0.4), (4, 0, 0.05), (8, 5, 0.1), (8, 30, 0.02)):
        held_out = [rng.random() < 0.3 for _ in range(400)]
        events = []
        for number in range(400):
            events.append(number)
            if rng.random() < reading:
                events.extend(["read"] * rng.randint(1, 2))
        pool, asked, reads = RecentRecords(size, slack), [], []

        def verdict(number):
            def check():
                asked.append(number)
                return held_out[number]
            return GuardVerdict(check)
        for event in events:
            if event == "read":
                reads.append(list(pool))
            else:
                pool.append(event, verdict(event))
        want_reads, want_asked = reference(size, slack, events, held_out)
        assert reads == want_reads and sorted(asked) == want_asked and len(asked) == len(set(asked))


def test_the_tidy_text_check_agrees_with_the_rules_regex():
    """`needs_cleaning` (a character scan and substring tests) says yes exactly when one regex of the rules
    would find something to clean, on random texts over the characters the rules are about; `clean` of a text
    it calls tidy is the text itself."""
    import re

    from ecomgpt_data.filters import ILLEGAL, clean, needs_cleaning

    rules = re.compile(f"{ILLEGAL.pattern}|[\\t\\r\\u00a0\\u3000]|  | \\n|\\n |\\n\\n\\n|^\\s|\\s$")
    alphabet = ["a", "好", " ", "\n", "\t", "\r", "\u00a0", "\u3000", "\x07", "\ufeff", "\u200b", "\x85", "\u2028", "\x0c"]
    rng = random.Random(3)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        assert needs_cleaning(text) == (rules.search(text) is not None), repr(text)
        if not needs_cleaning(text):
            assert clean(text) == (text, False)


def test_seeded_ints_is_seeded_int_of_its_last_part():
    """The hot loops' hasher equals the one seeded hash: same parts, same separator, same 64-bit value, and
    the values are the first 8 bytes of blake2b (or sha256) of the joined parts, worked out here by hand."""
    import hashlib

    from ecomgpt_core.hashing import seeded_int, seeded_ints

    priority = seeded_ints(42, "amcd.counterfactual_detection", sep="\x1d")
    for content in ("", "text\x1fa\x1fb\x1e\x1fout", "好评" * 300):
        assert priority(content) == seeded_int(42, "amcd.counterfactual_detection", content, sep="\x1d")
    by_hand = hashlib.blake2b("42\x1fbuild\x1ftask\x1fchat.txt:7".encode(), digest_size=8).digest()
    assert seeded_ints(42, "build", "task")("chat.txt:7") == int.from_bytes(by_hand, "big")
    assert seeded_ints()("x") == seeded_int("x")
    assert seeded_int(42, "build", "task", "chat.txt:7") == int.from_bytes(by_hand, "big")
    assert seeded_int() == int.from_bytes(hashlib.blake2b(b"", digest_size=8).digest(), "big")
    sha = hashlib.sha256("7|prompt".encode()).digest()[:8]
    assert seeded_int(7, "prompt", sep="|", algorithm="sha256") == int.from_bytes(sha, "big")
    with pytest.raises(ValueError, match="unknown algorithm 'md5'"):
        seeded_int(1, algorithm="md5")
