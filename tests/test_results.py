"""ecomgpt-results on hand-made lm-eval results files: known averages in every layout, gaps, errors, plots."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ecomgpt.results import (
    OFFICIAL,
    PAPER_CSV,
    TASKS,
    ResultsError,
    bar_chart,
    main,
    make_results,
    read_run,
    scaling_charts,
)

CLS_NER = {"micro_f1", "macro_f1", "rouge_l"}


def fake_run(folder: Path, scores: dict[str, dict[str, float]], model="my-model", extra_groups=True) -> Path:
    """A folder shaped like `lm_eval --output_path`: <folder>/<model>/results_<time>.json."""
    results = {task: {f"{m},none": v for m, v in metrics.items()} | {"alias": task} for task, metrics in scores.items()}
    if extra_groups:
        results["ecom_unseen"] = {"rouge_l,none": 1.0}
    data = {"results": results, "config": {"model": "hf", "model_args": f"pretrained=/models/{model},dtype=float32"},
            "versions": {task: 1.1 for task in results}}
    target = folder / model.replace("/", "__")
    target.mkdir(parents=True)
    (target / "results_2026-11-25T10-00-00.000.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def uniform(value: float) -> dict[str, dict[str, float]]:
    """Every official task with every metric it reports set to `value`."""
    return {t: {m: value for m in (CLS_NER if TASKS[t].paradigm in ("cls", "ner") else {"rouge_l"})} for t in OFFICIAL}


def varied() -> dict[str, dict[str, float]]:
    """Hand-chosen scores so that every average below is worked out by hand."""
    s = uniform(0.0)
    # unseen datasets: CLS coarse/fine/title-attr, EXT lenovo-cond/mepave-detect/redditqa, NER lenovo/mepave, GEN title
    rouge = {"ecom_openbg_coarse_classify": 10, "ecom_openbg_fine_classify": 20, "ecom_openbg_title_attribute_matching": 30,
             "ecom_lenovo_condition_extract": 40, "ecom_mepave_value_detection": 50, "ecom_redditqa_extract_qa": 60,
             "ecom_lenovo_ner": 70, "ecom_mepave_value_extraction": 80, "ecom_openbg_title_generate": 90,
             "ecom_openbg_item_align": 11, "ecom_absa_review_topic": 12, "ecom_multicpr_product_select": 13}
    micro = {"ecom_openbg_coarse_classify": 1, "ecom_openbg_fine_classify": 2, "ecom_openbg_title_attribute_matching": 3,
             "ecom_lenovo_ner": 4, "ecom_mepave_value_extraction": 10, "ecom_openbg_item_align": 21, "ecom_absa_review_topic": 22}
    for task, value in rouge.items():
        s[task]["rouge_l"] = float(value)
    for task, value in micro.items():
        s[task]["micro_f1"] = float(value)
        s[task]["macro_f1"] = float(value) / 2
    return s


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_known_averages_in_every_layout(tmp_path):
    run = fake_run(tmp_path / "run", varied())
    make_results([run], tmp_path / "out", ["mine"])
    table4 = {r["model"]: r for r in rows(tmp_path / "out" / "table4_unseen.csv")}["mine [default v1.1]"]
    assert table4["source"] == "this run"
    assert table4["Unseen Dataset ROUGE-L"] == "50.00"  # (10+20+...+90) / 9
    assert table4["Unseen Dataset micro-F1"] == "4.00"  # CLS and NER only: (1+2+3+4+10) / 5
    assert table4["Unseen Dataset macro-F1"] == "2.00"
    assert (table4["Product Align micro-F1"], table4["Product Align ROUGE-L"]) == ("21.00", "11.00")
    assert (table4["Review Topic macro-F1"], table4["Review Topic ROUGE-L"]) == ("11.00", "12.00")
    assert table4["Product Select ROUGE-L"] == "13.00"

    paradigm = rows(tmp_path / "out" / "paradigm.csv")[0]
    assert [paradigm[c] for c in ("CLS", "EXT", "GEN", "NER", "Other (GEN+NER)", "All")] == [
        "20.00", "50.00", "90.00", "75.00", "80.00", "50.00"]
    language = rows(tmp_path / "out" / "language.csv")[0]
    # EN unseen datasets: lenovo cond 40, lenovo ner 70, reddit qa 60; ZH: the other six
    assert [language[c] for c in ("EN", "ZH", "EN+ZH")] == ["56.67", "46.67", "50.00"]

    tasks = rows(tmp_path / "out" / "tasks.csv")
    assert {"task": "ecom_lenovo_ner", "metric": "micro-F1", "mine [default v1.1]": "4.00"} in tasks
    assert len(tasks) == 7 * 3 + 5  # CLS/NER tasks have three metrics, the others ROUGE-L


def test_paper_rows_are_printed_beside_the_runs(tmp_path):
    make_results([fake_run(tmp_path / "run", uniform(1.0))], tmp_path / "out")
    table4 = rows(tmp_path / "out" / "table4_unseen.csv")
    reported = [r for r in table4 if r["source"].startswith("paper, reported")]
    assert len(reported) == 14
    ecomgpt_7b1 = next(r for r in reported if r["model"] == "EcomGPT (7b1)")
    assert ecomgpt_7b1["Unseen Dataset ROUGE-L"] == "62.83" and ecomgpt_7b1["Product Select ROUGE-L"] == "56.39"
    markdown = (tmp_path / "out" / "results.md").read_text(encoding="utf-8")
    assert "not comparable with runs of the default profile" in markdown and "EcomGPT (7b1)" in markdown
    assert "paper, reported (Ours); other metric definitions" in markdown
    latex = (tmp_path / "out" / "language.tex").read_text(encoding="utf-8")
    assert latex.startswith("\\begin{tabular}") and "my-model [default v1.1] & this run & 1.00 & 1.00 & 1.00" in latex
    assert PAPER_CSV.is_file()


def test_missing_tasks_and_metrics_are_gaps_with_warnings(tmp_path, capsys):
    scores = uniform(30.0)
    del scores["ecom_openbg_title_generate"]
    del scores["ecom_lenovo_ner"]["micro_f1"]
    run = fake_run(tmp_path / "run", scores)
    full = fake_run(tmp_path / "full", uniform(60.0), model="other")
    assert main([str(run), str(full), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "my-model [default v1.1]: task ecom_openbg_title_generate is missing" in err
    assert "my-model [default v1.1]: ecom_lenovo_ner lacks micro_f1" in err
    paradigm = {r["model"]: r for r in rows(tmp_path / "out" / "paradigm.csv")}
    assert paradigm["my-model [default v1.1]"]["GEN"] == "" and paradigm["other [default v1.1]"]["GEN"] == "60.00"
    assert paradigm["my-model [default v1.1]"]["All"] == "30.00"
    tasks = {(r["task"], r["metric"]): r for r in rows(tmp_path / "out" / "tasks.csv")}
    assert tasks[("ecom_openbg_title_generate", "ROUGE-L")]["my-model [default v1.1]"] == ""
    assert tasks[("ecom_lenovo_ner", "micro-F1")]["my-model [default v1.1]"] == ""
    assert "–" in (tmp_path / "out" / "tasks.md").read_text(encoding="utf-8")
    assert "-- " in (tmp_path / "out" / "paradigm.tex").read_text(encoding="utf-8")


def test_duplicate_labels_and_bad_inputs_are_errors(tmp_path, capsys):
    a = fake_run(tmp_path / "a", uniform(1.0))
    b = fake_run(tmp_path / "b", uniform(2.0))
    with pytest.raises(ResultsError, match=r"two runs are labelled 'my-model \[default v1.1\]'"):
        make_results([a, b], tmp_path / "out")
    assert main([str(a), str(b), "--out", str(tmp_path / "out"), "--label", "x", "--label", "x"]) == 2
    assert "two runs are labelled 'x [default v1.1]'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no results_"):
        read_run(tmp_path / "empty")
    with pytest.raises(ResultsError, match="2 --label values for 1 run"):
        make_results([a], tmp_path / "out", ["x", "y"])


def test_plots_are_written_and_show_every_model(tmp_path):
    runs = [fake_run(tmp_path / f"r{i}", uniform(float(10 * i)), model=f"m{i}") for i in range(1, 5)]
    labels = ["560m@tasks=10", "560m@tasks=40", "1b7@tasks=10", "1b7@per_task=100"]
    make_results(runs, tmp_path / "out", labels)
    for name in ("table4_bars.png", "scaling_tasks.png", "scaling_per_task.png"):
        data = (tmp_path / "out" / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
    read = [read_run(r, label) for r, label in zip(runs, labels, strict=True)]
    bars = bar_chart(read)
    assert bars.axes[0].get_legend_handles_labels()[1] == [f"{label} [default v1.1]" for label in labels]
    curves = scaling_charts(read)
    assert set(curves) == {"scaling_tasks", "scaling_per_task"}
    axis = curves["scaling_tasks"].axes[0]
    assert axis.get_legend_handles_labels()[1] == ["1b7", "560m"]
    line_560m = next(line for line in axis.get_lines() if line.get_label() == "560m")
    assert list(line_560m.get_xdata()) == [10, 40] and list(line_560m.get_ydata()) == [10.0, 20.0]


def test_a_shared_output_folder_gives_one_row_per_model(tmp_path):
    shared = tmp_path / "runs"
    fake_run(shared, uniform(10.0), model="org/model-a")
    fake_run(shared, uniform(20.0), model="model-b")
    runs, _ = make_results([shared], tmp_path / "out")
    assert sorted(r.label for r in runs) == ["model-a [default v1.1]", "model-b [default v1.1]"]
    rows = list(csv.DictReader((tmp_path / "out" / "table4_unseen.csv").open(encoding="utf-8")))
    mine = {r["model"]: r["Unseen Dataset ROUGE-L"] for r in rows if r["source"] == "this run"}
    assert mine == {"model-a [default v1.1]": "10.00", "model-b [default v1.1]": "20.00"}
    with pytest.raises(ResultsError, match="give one per run, in this order"):
        make_results([shared], tmp_path / "out2", ["only-one"])


def test_a_limit_run_is_marked_warned_and_kept_out_of_the_plots(tmp_path):
    limited = fake_run(tmp_path / "limited", uniform(30.0), model="small")
    file = next(limited.rglob("results_*.json"))
    data = json.loads(file.read_text())
    data["config"]["limit"] = 5
    file.write_text(json.dumps(data))
    full = fake_run(tmp_path / "full", uniform(40.0), model="big")
    runs, warnings = make_results([limited, full], tmp_path / "out")
    assert [r.label for r in runs] == ["small (limit 5) [default v1.1]", "big [default v1.1]"]
    assert any("--limit 5" in w and "left out of the plots" in w for w in warnings)
    for name in ("table4_unseen", "tasks", "paradigm", "language"):
        assert "small (limit 5)" in (tmp_path / "out" / f"{name}.md").read_text(encoding="utf-8")
    figure = bar_chart([r for r in runs if r.limit is None])
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["big [default v1.1]"]
    runs, _ = make_results([limited], tmp_path / "out3", ["mine"])
    assert runs[0].label == "mine (limit 5) [default v1.1]"
    # Without its config (`config: null`) the run still shows the cut, from lm-eval's n-samples.
    data["config"] = None
    data["n-samples"] = {task: {"original": 500, "effective": 20} for task in data["results"]}
    file.write_text(json.dumps(data))
    runs, warnings = make_results([limited], tmp_path / "out4", ["mine"])
    assert runs[0].label == "mine (limit 20) [default v1.1]" and any("--limit 20" in w for w in warnings)


@pytest.mark.parametrize(("content", "message"), [
    (b"[]", "a JSON list, not an object"),
    (b'{"results": []}', "'results' is list, not an object"),
    (b'{"config": {}}', "'results' is missing"),
    (b'{"results": {}, "config": 3}', "'config' is a int"),
    (b'{"results": {}, "versions": [1]}', "'versions' is a list, not an object"),
    (b'{"results": {"a": "\xff"}}', "not valid UTF-8"),
    (b'{"results": ', "not JSON"),
])
def test_malformed_results_files_are_named(tmp_path, content, message):
    folder = tmp_path / "run" / "m"
    folder.mkdir(parents=True)
    (folder / "results_x.json").write_bytes(content)
    with pytest.raises(ResultsError, match=message) as error:
        read_run(tmp_path / "run")
    assert "results_x.json" in str(error.value)


def test_config_null_is_read_and_non_finite_scores_are_warned_and_missing(tmp_path):
    run = fake_run(tmp_path / "run", uniform(5.0))
    file = next(run.rglob("results_*.json"))
    data = json.loads(file.read_text())
    data["config"] = None
    data["results"]["ecom_lenovo_ner"]["micro_f1,none"] = float("nan")
    data["results"]["ecom_openbg_item_align"]["rouge_l,none"] = float("inf")
    file.write_text(json.dumps(data))
    read = read_run(run)
    assert "micro_f1" not in read.scores["ecom_lenovo_ner"] and "rouge_l" not in read.scores["ecom_openbg_item_align"]
    assert any("ecom_lenovo_ner micro_f1 is nan" in w for w in read.warnings)
    assert any("ecom_openbg_item_align rouge_l is inf" in w for w in read.warnings)


def release_run(folder: Path, scores, model="my-model") -> Path:
    fake_run(folder, {f"{task}_release": values for task, values in scores.items()}, model=model, extra_groups=False)
    return folder


def test_profiles_are_recognised_marked_and_never_mixed_in_one_run(tmp_path):
    release = release_run(tmp_path / "rel", uniform(50.0))
    runs, warnings = make_results([release], tmp_path / "out")
    assert runs[0].profile == "release" and runs[0].label == "my-model [release v1.1]"
    assert runs[0].scores["ecom_lenovo_ner"]["micro_f1"] == 50.0
    text = (tmp_path / "out" / "results.md").read_text(encoding="utf-8")
    assert "can be put beside these numbers" in text and "other metric definitions" not in text
    default = fake_run(tmp_path / "def", uniform(40.0), model="other")
    runs, warnings = make_results([release, default], tmp_path / "both")
    assert any("different definitions sit side by side" in w for w in warnings)
    assert "other metric definitions" in (tmp_path / "both" / "table4_unseen.md").read_text(encoding="utf-8")
    mixed = tmp_path / "mixed" / "m"
    mixed.mkdir(parents=True)
    file = next(release.rglob("results_*.json"))
    data = json.loads(file.read_text())
    data["results"]["ecom_lenovo_ner"] = {"rouge_l,none": 1.0}
    (mixed / "results_1.json").write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="mixes the default and the release profile"):
        read_run(tmp_path / "mixed")


def samples_run(folder: Path, task_values: dict[str, list], model: str) -> Path:
    """A run with per-document samples (as --log_samples writes them) for the given tasks' ROUGE-L values."""
    stamp = "2026-11-25T10-00-00.000"
    target = folder / model
    target.mkdir(parents=True)
    results = {t: {"rouge_l,none": sum(v) / len(v)} for t, v in task_values.items()}
    (target / f"results_{stamp}.json").write_text(json.dumps(
        {"results": results, "config": {"model_args": f"pretrained={model}"}, "versions": {t: 1.1 for t in results}}))
    for task, values in task_values.items():
        lines = [json.dumps({"doc_id": i, "rouge_l": v, "metrics": ["rouge_l"]}) for i, v in enumerate(values)]
        (target / f"samples_{task}_{stamp}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def samples_of(model_folder: Path) -> dict:
    from ecomgpt.bootstrap import read_samples

    return read_samples(next(model_folder.glob("results_*.json")))


def test_paired_bootstrap_on_a_constructed_pair(tmp_path):
    from ecomgpt.bootstrap import paired_intervals

    # A beats B by exactly 3 on every document of Product Select: the difference is 3 in every resample.
    b_values = [float(v % 7) * 10 for v in range(200)]
    a = samples_run(tmp_path / "a", {"ecom_multicpr_product_select": [v + 3 for v in b_values]}, "a")
    b = samples_run(tmp_path / "b", {"ecom_multicpr_product_select": b_values}, "b")
    columns = [("Product Select ROUGE-L", ["ecom_multicpr_product_select"], "rouge_l")]
    [(point, low, high)] = paired_intervals(samples_of(a / "a"), samples_of(b / "b"), columns).values()
    assert point == pytest.approx(3.0) and low == pytest.approx(3.0) and high == pytest.approx(3.0)
    # A wins by 10 on half of the documents and ties on the rest: mean 5; the 95% interval of a mean of 200
    # Bernoulli(1/2) x 10 is 5 +- 1.96 * 10 * 0.5 / sqrt(200) = [4.31, 5.69] (normal approximation).
    c = samples_run(tmp_path / "c", {"ecom_multicpr_product_select": [v + 10 * (i % 2) for i, v in enumerate(b_values)]}, "c")
    [(point, low, high)] = paired_intervals(samples_of(c / "c"), samples_of(b / "b"), columns, 4000).values()
    assert point == pytest.approx(5.0)
    assert low == pytest.approx(4.31, abs=0.2) and high == pytest.approx(5.69, abs=0.2)
    runs, _ = make_results([c, b], tmp_path / "out")
    text = (tmp_path / "out" / "bootstrap.md").read_text(encoding="utf-8")
    assert "Product Select: Δ ROUGE-L +5.0 [" in text


def test_bootstrap_refuses_runs_over_different_documents(tmp_path):
    from ecomgpt.bootstrap import paired_intervals

    a = samples_run(tmp_path / "a", {"ecom_multicpr_product_select": [1.0, 2.0]}, "a")
    b = samples_run(tmp_path / "b", {"ecom_multicpr_product_select": [1.0, 2.0, 3.0]}, "b")
    with pytest.raises(ValueError, match="different documents"):
        paired_intervals(samples_of(a / "a"), samples_of(b / "b"),
                         [("x", ["ecom_multicpr_product_select"], "rouge_l")])
    # The same ids over other documents (shuffled data): lm-eval's doc_hash tells them apart.
    c = samples_run(tmp_path / "c", {"ecom_multicpr_product_select": [1.0, 2.0]}, "c")
    for run, hashes in ((a / "a", ["h0", "h1"]), (c / "c", ["h1", "h0"])):
        file = next(run.glob("samples_*.jsonl"))
        rows = [json.loads(line) for line in file.read_text().splitlines()]
        file.write_text("".join(json.dumps({**r, "doc_hash": h}) + "\n" for r, h in zip(rows, hashes)))
    with pytest.raises(ValueError, match="different documents"):
        paired_intervals(samples_of(a / "a"), samples_of(c / "c"), [("x", ["ecom_multicpr_product_select"], "rouge_l")])


def test_bootstrap_aggregations_equal_the_tasks_own():
    import numpy as np

    from ecom_tasks import metrics
    from ecom_tasks.release_metrics import seqeval_f1
    from ecomgpt.bootstrap import aggregate, task_items

    every = np.arange(2)[None, :]
    default = [{"doc_id": 0, "micro_f1": [1, 2, 1], "macro_f1": {"A": [1, 1, 1], "B": [0, 1, 0]}},
               {"doc_id": 1, "micro_f1": [0, 0, 1], "macro_f1": {"A": [0, 0, 1]}}]
    assert aggregate(task_items(default, "micro_f1"), every)[0] == pytest.approx(
        metrics.aggregate_micro_f1([s["micro_f1"] for s in default]))
    assert aggregate(task_items(default, "macro_f1"), every)[0] == pytest.approx(
        metrics.aggregate_type_macro_f1([s["macro_f1"] for s in default]))
    tags = [[["B-A", "I-A", "O"], ["B-A", "I-A", "O"]], [["O", "B-B"], ["O", "O"]]]
    release = [{"doc_id": i, "micro_f1": t, "macro_f1": t} for i, t in enumerate(tags)]
    for metric, average in (("micro_f1", "micro"), ("macro_f1", "macro")):
        assert aggregate(task_items(release, metric), every)[0] == pytest.approx(seqeval_f1(tags, average))


def test_bars_tell_zero_from_missing_and_draw_paper_reference_bars(tmp_path):
    scores = uniform(30.0)
    scores["ecom_multicpr_product_select"]["rouge_l"] = 0.0  # a real zero
    del scores["ecom_absa_review_topic"]  # missing: Review Topic columns
    run = read_run(fake_run(tmp_path / "run", scores))
    figure = bar_chart([run], ["EcomGPT (7b1)", "ChatGPT"])
    axis = figure.axes[0]
    texts = [t.get_text() for t in axis.texts]
    assert texts.count("n/a") == 3 and texts.count("0") == 1
    assert [t.get_text() for t in axis.get_legend().get_texts()] == [
        "my-model [default v1.1]", "EcomGPT (7b1) (paper)", "ChatGPT (paper)"]
    assert sum(1 for patch in axis.patches if patch.get_hatch() == "///") == 3
    with pytest.raises(ResultsError, match="no paper row"):
        bar_chart([run], ["GPT-9"])
    assert main([str(tmp_path / "run"), "--out", str(tmp_path / "out"), "--paper-models", "ChatGPT"]) == 0


def test_mcnemar_on_a_constructed_table():
    from ecomgpt import mcnemar

    # 10 documents: 2 right in both, 1 right only in A, 6 right only in B, 1 wrong in both.
    right_a = [True, True, True, False, False, False, False, False, False, False]
    right_b = [True, True, False, True, True, True, True, True, True, False]
    assert mcnemar.table(right_a, right_b) == [[2, 1], [6, 1]]
    # exact McNemar: two-sided binomial test of 1 success in 7 at p = 1/2: 2 * (C(7,0) + C(7,1)) / 2^7 = 0.125
    result = mcnemar.test(right_a, right_b)
    assert (result.a_only, result.b_only, result.pairs) == (1, 6, 10)
    assert result.p_value == pytest.approx(0.125)
    # no discordant pair: p = 1
    assert mcnemar.test([True, False], [True, False]).p_value == pytest.approx(1.0)
    # a document is right when its label set is the gold set: (hits, predicted, gold)
    assert mcnemar.exact_match([1, 1, 1]) and mcnemar.exact_match([0, 0, 0])
    assert not mcnemar.exact_match([1, 2, 1]) and not mcnemar.exact_match([1, 1, 2])


def cls_samples_run(folder: Path, model: str, right: list[bool], hashes: list[str]) -> Path:
    stamp = "2026-11-25T10-00-00.000"
    target = folder / model
    target.mkdir(parents=True)
    task = "ecom_openbg_item_align"  # Product Align, a classification task
    (target / f"results_{stamp}.json").write_text(json.dumps(
        {"results": {task: {"micro_f1,none": 50.0, "invalid_rate,none": 0.25}},
         "config": {"model_args": f"pretrained={model}"}, "versions": {task: 1.1}}))
    rows = [{"doc_id": i, "doc_hash": h, "micro_f1": [1, 1, 1] if ok else [0, 1, 1], "macro_f1": [1.0, 1.0],
             "rouge_l": 100.0 if ok else 0.0} for i, (ok, h) in enumerate(zip(right, hashes))]
    (target / f"samples_{task}_{stamp}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_results_show_invalid_rates_and_mcnemar_beside_the_interval(tmp_path):
    from ecomgpt import mcnemar
    from ecomgpt.bootstrap import read_samples

    hashes = [f"h{i}" for i in range(10)]
    right_a = [True, True, True, False, False, False, False, False, False, False]
    right_b = [True, True, False, True, True, True, True, True, True, False]
    a = cls_samples_run(tmp_path / "a", "a", right_a, hashes)
    b = cls_samples_run(tmp_path / "b", "b", right_b, hashes)
    runs, _ = make_results([a, b], tmp_path / "out")
    assert runs[0].scores["ecom_openbg_item_align"]["invalid_rate"] == pytest.approx(25.0)  # percent
    tasks_table = (tmp_path / "out" / "tasks.md").read_text(encoding="utf-8")
    assert "invalid (%)" in tasks_table and "25.00" in tasks_table
    text = (tmp_path / "out" / "bootstrap.md").read_text(encoding="utf-8")
    assert "Product Align: Δ micro-F1" in text
    assert "(McNemar p=0.125 (1 right only in A, 6 only in B, of 10))" in text
    assert "classification tasks: ecom_openbg_item_align: McNemar p=0.125" in text
    # paired by doc_hash: the same ids over other documents do not pair
    c = cls_samples_run(tmp_path / "c", "c", right_b, [f"other{i}" for i in range(10)])
    samples = [read_samples(next((folder / name).glob("results_*.json")))["ecom_openbg_item_align"]
               for folder, name in ((a, "a"), (c, "c"))]
    assert mcnemar.between(*samples) is None


def test_each_run_gets_its_own_bootstrap_interval(tmp_path):
    from ecomgpt.bootstrap import run_intervals

    columns = [("Product Select ROUGE-L", ["ecom_multicpr_product_select"], "rouge_l")]
    flat = samples_run(tmp_path / "flat", {"ecom_multicpr_product_select": [40.0] * 50}, "flat")
    assert run_intervals(samples_of(flat / "flat"), columns) == {"Product Select ROUGE-L": (40.0, 40.0, 40.0)}
    # half the documents 10, half 0: mean 5, and the 95% interval of a mean of 200 such documents is
    # 5 +- 1.96 * 5 / sqrt(200) = [4.31, 5.69] (normal approximation)
    half = samples_run(tmp_path / "half", {"ecom_multicpr_product_select": [10.0 * (i % 2) for i in range(200)]}, "half")
    [(point, low, high)] = run_intervals(samples_of(half / "half"), columns, 4000).values()
    assert point == pytest.approx(5.0) and low == pytest.approx(4.31, abs=0.2) and high == pytest.approx(5.69, abs=0.2)
    make_results([half], tmp_path / "out")
    text = (tmp_path / "out" / "intervals.md").read_text(encoding="utf-8")
    assert "- ecom_multicpr_product_select ROUGE-L: 5.00 [" in text and "- Product Select ROUGE-L: 5.00 [" in text
    assert "Product Select ROUGE-L: 5.0 [" in (tmp_path / "out" / "results.md").read_text(encoding="utf-8")


def echo_run(out: Path, salt: str, tasks: str, limit: int = 20) -> Path:
    """A real lm-eval run with --log_samples, by the deterministic echo model of tests/echo_lm.py."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "ECHO_SALT": salt}
    done = subprocess.run([sys.executable, str(repo / "tests/echo_lm.py"), "lm_eval", "--model", "ecom-echo",
                           "--include_path", str(repo / "ecom_tasks"), "--tasks", tasks, "--limit", str(limit),
                           "--log_samples", "--output_path", str(out)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_report_page_browses_every_document_in_chromium(eval_dir, tmp_path):
    from conftest import chromium

    from ecomgpt.bootstrap import read_samples
    from ecomgpt.report_page import browser_data

    tasks = "ecom_absa_review_topic,ecom_lenovo_ner,ecom_mepave_value_detection"
    a, b = echo_run(tmp_path / "a", "", tasks), echo_run(tmp_path / "b", "other", tasks)
    runs, _ = make_results([a, b], tmp_path / "out", labels=["echo A", "echo B"], plot_limited=True, html=True)
    page = tmp_path / "out" / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "<script src" not in text  # no network
    assert "data:image/png;base64," in text and "Table 4 layout" in text and "McNemar p=" in text
    # what the filters must find, from the samples themselves
    data = browser_data(runs)["ecom_absa_review_topic"]
    assert len(data) == 20 and all(len(d["answers"]) == 2 and None not in d["answers"] for d in data)
    wrong = sum(any(not x["right"] for x in d["answers"]) for d in data)
    invalid = sum(any(x["invalid"] for x in d["answers"]) for d in data)
    disagree = sum(len({x["text"].strip() for x in d["answers"]}) > 1 for d in data)
    assert 0 < wrong < 20 and 0 < invalid <= wrong and 0 < disagree < 20
    samples = read_samples(runs[0].results_file)["ecom_absa_review_topic"]
    assert sum(s["invalid_rate"] for s in samples) == sum(x["answers"][0]["invalid"] for x in data)
    word = data[3]["gold"].split(",")[0]
    searched = sum(word.lower() in "\n".join([d["prompt"], d["gold"], *[x["text"] for x in d["answers"]]]).lower()
                   for d in data)

    found, why = chromium()
    if found is None:
        pytest.skip(why)
    webdriver, binary, driver_path = found
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        browser.get(page.as_uri())
        Select(browser.find_element(By.ID, "task")).select_by_value("ecom_absa_review_topic")

        def count() -> str:
            return browser.find_element(By.ID, "count").text

        def rows() -> int:
            return len(browser.find_elements(By.CSS_SELECTOR, "#rows .doc"))

        assert count().startswith("20 of 20 documents") and rows() == 20
        browser.find_element(By.ID, "wrong").click()
        assert count().startswith(f"{wrong} of 20") and rows() == wrong
        browser.find_element(By.ID, "invalid").click()
        assert count().startswith(f"{invalid} of 20") and rows() == invalid
        browser.find_element(By.ID, "wrong").click()
        browser.find_element(By.ID, "invalid").click()
        browser.find_element(By.ID, "disagree").click()
        assert rows() == disagree
        browser.find_element(By.ID, "disagree").click()
        browser.find_element(By.ID, "search").send_keys(word)
        assert count().startswith(f"{searched} of 20") and rows() == searched
        browser.save_screenshot(str(tmp_path / "report.png"))
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
    finally:
        browser.quit()
