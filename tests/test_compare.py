"""`ecomgpt-compare`: seeded stratified sampling with a hidden key, the report's numbers on a constructed study
(hand-computed win rates, Wilson intervals, kappas and Pearson), clear errors, the LLM judge against a
loopback server, and the annotation page in a real headless browser."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
from conftest import chromium

from ecomgpt.compare import CSV_COLUMNS, main as compare_main, read_study

TASKS = {"ecom_absa_review_topic": (80.0, 70.0), "ecom_openbg_item_align": (50.0, 50.0),
         "ecom_redditqa_extract_qa": (30.0, 40.0)}  # ROUGE-L of run A and run B
PROMPT = ("Below is an instruction that describes the {defi} task. Write a response that appropriately completes "
          "the request.\n### Instruction:\n{text}\n### Response:")


def make_run(folder: Path, model: str, outputs, docs: int = 4) -> Path:
    """An lm-eval output folder with results and --log_samples files for the three tasks."""
    run = folder / model.replace("/", "__")
    run.mkdir(parents=True)
    stamp = "2026-11-26T00-00-00.000000"
    results = {"results": {}, "versions": {}, "config": {"model_args": f"pretrained={model}", "limit": None}}
    for number, (task, rouge) in enumerate(TASKS.items()):
        results["results"][task] = {"rouge_l,none": rouge[0 if "alpha" in model else 1], "micro_f1,none": 1.0,
                                    "macro_f1,none": 1.0}
        results["versions"][task] = "1.1"
        rows = []
        for doc_id in range(docs):
            prompt = PROMPT.format(defi=task.split("_", 1)[1].replace("_", " "), text=f"record {doc_id} of {task}")
            rows.append({"doc_id": doc_id, "doc": {"prompt": prompt, "target": f"gold {doc_id}"},
                         "target": f"gold {doc_id}", "filtered_resps": [outputs(task, doc_id)], "rouge_l": 0.0})
        (run / f"samples_{task}_{stamp}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / f"results_{stamp}.json").write_text(json.dumps(results))
    return run


@pytest.fixture
def runs(tmp_path):
    a = make_run(tmp_path / "runs", "secret-model-alpha", lambda task, d: f"alpha says {d}" if d else "same")
    b = make_run(tmp_path / "runs", "secret-model-beta", lambda task, d: f"beta says {d}" if d else "same")
    return a, b


def prepare(runs, out: Path, *extra: str) -> Path:
    assert compare_main(["prepare", str(runs[0]), str(runs[1]), "--out", str(out), *extra]) == 0
    return out


def test_prepare_is_seeded_stratified_and_keeps_the_key_apart(runs, tmp_path, capsys):
    study = prepare(runs, tmp_path / "s1", "--per-task", "2", "--seed", "7")
    assert "identical outputs, pre-marked ties" in capsys.readouterr().out
    info, items, key = read_study(study)
    assert [i["task"] for i in items] == [t for t in TASKS for _ in range(2)]  # 2 per task
    assert prepare(runs, tmp_path / "s2", "--per-task", "2", "--seed", "7") and \
        (tmp_path / "s2/items.jsonl").read_text() == (study / "items.jsonl").read_text()
    other = [json.loads(line)["id"] for line in (prepare(runs, tmp_path / "s3", "--per-task", "2", "--seed", "8")
                                                  / "items.jsonl").read_text().splitlines()]
    assert other != [i["id"] for i in items]  # another seed, another draw
    assert {i["task_description"] for i in items} == {"absa review topic", "openbg item align", "redditqa extract qa"}
    assert all(i["input"] == f"record {i['id'].rsplit('-', 1)[1]} of {i['task']}" for i in items)  # head, markers off
    # Each side shows each model somewhere, and the key says which.
    assert set(key["left"].values()) <= {"A", "B"} and set(key["left"]) == {i["id"] for i in items}
    for item in items:
        shown = {item["output_1"], item["output_2"]}
        assert item["identical"] == (len(shown) == 1)
    for name in ("items.jsonl", "annotate.html", "study.json"):
        text = (study / name).read_text(encoding="utf-8")
        assert "secret-model" not in text and json.dumps(key["left"]) not in text
    page = (study / "annotate.html").read_text(encoding="utf-8")
    embedded = json.loads(page.split('type="application/json">', 1)[1].split("</script>", 1)[0].replace("<\\/", "</"))
    assert embedded["items"] == items and set(embedded) == {"study", "items"}  # the page holds no key
    assert "http" not in page.replace("http-equiv", "")  # no external script, font or style
    assert key["A"]["label"] == "secret-model-alpha" and key["rouge_l"]["ecom_absa_review_topic"] == [80.0, 70.0]


def test_sides_are_randomised_per_item(runs, tmp_path):
    _, items, key = read_study(prepare(runs, tmp_path / "s", "--per-task", "4"))
    assert set(key["left"].values()) == {"A", "B"}
    for item in items:
        if not item["identical"]:
            left_is_alpha = item["output_1"].startswith("alpha")
            assert key["left"][item["id"]] == ("A" if left_is_alpha else "B")
    assert sum(i["identical"] for i in items) == 3  # doc 0 of each task


def test_runs_of_different_documents_are_refused(runs, tmp_path, capsys):
    other = make_run(tmp_path / "other", "secret-model-gamma", lambda task, d: "x", docs=3)
    assert compare_main(["prepare", str(runs[0]), str(other), "--out", str(tmp_path / "s")]) == 2
    assert "did not score the same documents" in capsys.readouterr().err


def write_csv(path: Path, study_id: str, annotator: str, choices: dict[str, str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for item_id, choice in choices.items():
            writer.writerow([study_id, item_id, annotator, choice, "", "1.0"])
    return path


def choices_for(items, key, outcomes: list[str]) -> dict[str, str]:
    """The page choices that give model A the outcomes wanted ("win" / "tie" / "lose"), item by item."""
    out = {}
    for item, outcome in zip(items, outcomes, strict=True):
        if outcome == "tie":
            out[item["id"]] = "tie"
        else:
            a_side = "left" if key["left"][item["id"]] == "A" else "right"
            out[item["id"]] = a_side if outcome == "win" else ("right" if a_side == "left" else "left")
    return out


def wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    centre, half = (x + z * z / 2) / (n + z * z), z * math.sqrt(x * (n - x) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def test_report_numbers_on_a_constructed_study(runs, tmp_path):
    study = prepare(runs, tmp_path / "s", "--per-task", "4")
    info, items, key = read_study(study)
    # Per task (4 items each): absa A wins 3, ties 1; openbg 1 win, 1 tie, 2 losses; reddit 0 wins, 0 ties, 4 losses.
    wanted = ["win", "win", "win", "tie", "win", "tie", "lose", "lose", "lose", "lose", "lose", "lose"]
    one = write_csv(tmp_path / "ann1.csv", info["study_id"], "ann1", choices_for(items, key, wanted))
    out = tmp_path / "report"
    assert compare_main(["report", str(study), str(one), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    absa, openbg, reddit = (report["tasks"][t] for t in TASKS)
    assert (absa["win"], absa["tie"], absa["lose"], absa["win_or_tie"]) == (3, 1, 0, 1.0)
    assert (openbg["win"], openbg["tie"], openbg["lose"], openbg["win_or_tie"]) == (1, 1, 2, 0.5)
    assert (reddit["win"], reddit["tie"], reddit["lose"], reddit["win_or_tie"]) == (0, 0, 4, 0.0)
    overall = report["overall"]
    assert (overall["win"], overall["tie"], overall["lose"], overall["n"]) == (4, 2, 6, 12)
    assert (overall["wilson_low"], overall["wilson_high"]) == pytest.approx(wilson(6, 12))
    assert (openbg["wilson_low"], openbg["wilson_high"]) == pytest.approx(wilson(2, 4))
    # Pearson of win-or-tie (1.0, 0.5, 0.0) with the ROUGE-L differences (10, 0, -10): exactly 1.
    assert report["pearson_win_or_tie_vs_rouge_l_difference"] == pytest.approx(1.0)
    assert report["rouge_l_difference"] == {"ecom_absa_review_topic": 10.0, "ecom_openbg_item_align": 0.0,
                                            "ecom_redditqa_extract_qa": -10.0}
    assert report["agreement"]["kind"] is None  # one annotator
    assert (out / "figure3.png").stat().st_size > 5000 and "| **overall** | 4 | 2 | 6 | 12 |" in (out / "report.md").read_text()


def test_pearson_by_hand_and_agreement_kappas(runs, tmp_path):
    study = prepare(runs, tmp_path / "s", "--per-task", "4")
    info, items, key = read_study(study)
    # Annotator 1: win-or-tie 0.25 / 0.5 / 1.0 on the three tasks, annotator 2: 0.5 / 0.75 / 1.0; ROUGE-L
    # differences are 10, 0, -10.
    first = ["win", "lose", "lose", "lose", "win", "tie", "lose", "lose", "win", "win", "tie", "win"]
    second = ["win", "win", "lose", "lose", "win", "tie", "lose", "win", "win", "win", "tie", "tie"]
    third = ["lose", "win", "lose", "tie", "win", "tie", "lose", "win", "win", "lose", "tie", "tie"]
    paths = [write_csv(tmp_path / f"a{k}.csv", info["study_id"], f"a{k}", choices_for(items, key, o))
             for k, o in enumerate((first, second), 1)]
    out = tmp_path / "r2"
    assert compare_main(["report", str(study), *map(str, paths), "--out", str(out)]) == 0
    two = json.loads((out / "report.json").read_text())
    # Cohen's kappa by hand on the page choices of the two annotators.
    c1 = [choices_for(items, key, first)[i["id"]] for i in items]
    c2 = [choices_for(items, key, second)[i["id"]] for i in items]
    po = sum(a == b for a, b in zip(c1, c2)) / 12
    pe = sum((c1.count(k) / 12) * (c2.count(k) / 12) for k in ("left", "right", "tie"))
    assert two["agreement"]["kind"] == "Cohen's kappa"
    assert two["agreement"]["overall"] == pytest.approx((po - pe) / (1 - pe))
    # Pearson by hand on the per-task win-or-tie rates pooled over both annotators: (1+2)/8, (2+3)/8, (4+4)/8.
    rates = [two["tasks"][t]["win_or_tie"] for t in TASKS]
    assert rates == [0.375, 0.625, 1.0]
    diffs = [10.0, 0.0, -10.0]
    mx, my = sum(rates) / 3, sum(diffs) / 3
    r = sum((x - mx) * (y - my) for x, y in zip(rates, diffs)) / math.sqrt(
        sum((x - mx) ** 2 for x in rates) * sum((y - my) ** 2 for y in diffs))
    assert two["pearson_win_or_tie_vs_rouge_l_difference"] == pytest.approx(r)
    assert r == pytest.approx(-0.9934, abs=1e-4)
    # Three annotators: Fleiss' kappa by hand.
    paths.append(write_csv(tmp_path / "a3.csv", info["study_id"], "a3", choices_for(items, key, third)))
    out3 = tmp_path / "r3"
    assert compare_main(["report", str(study), *map(str, paths), "--out", str(out3)]) == 0
    three = json.loads((out3 / "report.json").read_text())
    c3 = [choices_for(items, key, third)[i["id"]] for i in items]
    table = [[sum(c[i] == k for c in (c1, c2, c3)) for k in ("left", "right", "tie")] for i in range(12)]
    p_items = [(sum(n * n for n in row) - 3) / (3 * 2) for row in table]
    p_cats = [sum(row[k] for row in table) / 36 for k in range(3)]
    p_bar, pe_bar = sum(p_items) / 12, sum(p * p for p in p_cats)
    assert three["agreement"]["kind"] == "Fleiss' kappa"
    assert three["agreement"]["overall"] == pytest.approx((p_bar - pe_bar) / (1 - pe_bar))


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows[:-1], "1 of 12 items have no choice"),
    (lambda rows: rows + [rows[1]], "a second time"),
    (lambda rows: [rows[0], [rows[1][0], rows[1][1], rows[1][2], "maybe", "", "1"], *rows[2:]], "choice 'maybe'"),
    (lambda rows: [[("0" * 16), *r[1:]] if i == 0 else r for i, r in enumerate(rows)], "belongs to another study"),
    (lambda rows: [[r[0], "nope-1", *r[2:]] if i == 0 else r for i, r in enumerate(rows)], "unknown item id 'nope-1'"),
])
def test_bad_annotation_files_get_one_message(runs, tmp_path, capsys, change, message):
    study = prepare(runs, tmp_path / "s", "--per-task", "4")
    info, items, key = read_study(study)
    rows = [[info["study_id"], i["id"], "ann", "tie", "", "1.0"] for i in items]
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(change(rows))
    assert compare_main(["report", str(study), str(path), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_judge_swaps_the_order_turns_flips_into_ties_and_uses_the_cache(runs, tmp_path, capsys, monkeypatch):
    from openai_server import FakeOpenAI

    study = prepare(runs, tmp_path / "s", "--per-task", "4")
    info, items, key = read_study(study)

    def answer(messages):
        prompt = messages[-1]["content"]
        first = prompt.split("Answer 1:\n", 1)[1].split("\n\nAnswer 2:", 1)[0]
        if "says 3" in prompt:  # a position-biased verdict: always the first answer
            return "1"
        return "1" if first.startswith("alpha") else "2"  # otherwise the judge prefers model A

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cache = tmp_path / "cache"
    with FakeOpenAI(faults=(None,), answer=answer) as server:
        command = ["judge", str(study), "--model", "fake-judge", "--base_url", server.base_url, "--cache-dir", str(cache)]
        assert compare_main([*command, "--dry-run"]) == 0
        assert "dry run: 18 calls for 9 items" in capsys.readouterr().out
        assert compare_main(command) == 0
        printed = capsys.readouterr().out
        assert "9 items judged in both orders, 3 order-dependent (ties)" in printed and "18 calls, 0 cached" in printed
        assert compare_main(command) == 0
        assert "0 calls, 18 cached" in capsys.readouterr().out
    annotations = study / "annotations_judge_fake-judge.csv"
    rows = list(csv.DictReader(annotations.open(encoding="utf-8")))
    assert {r["annotator"] for r in rows} == {"judge:fake-judge"} and len(rows) == 12
    out = tmp_path / "r"
    assert compare_main(["report", str(study), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["scored_by"] == "judge"
    # 3 identical pairs and 3 position-biased pairs are ties; the other 6 are wins for A.
    assert (report["overall"]["win"], report["overall"]["tie"], report["overall"]["lose"]) == (6, 6, 0)
    assert "secret" not in json.dumps(json.loads((study / "judge_usage_fake-judge.json").read_text()))


@pytest.mark.slow
def test_annotation_page_in_a_headless_browser(runs, tmp_path):
    found, why = chromium()
    if found is None:
        pytest.skip(why)
    webdriver, binary, driver_path = found
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    study = prepare(runs, tmp_path / "s", "--per-task", "4")
    info, items, key = read_study(study)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        browser.get((study / "annotate.html").as_uri())
        name = browser.find_element(By.ID, "annotator")
        name.send_keys("alice", Keys.TAB)
        body = browser.find_element(By.TAG_NAME, "body")
        # Item 1 is doc 0 of the first task (identical outputs): pre-marked; label items 2-5 with the keyboard.
        assert "identical" in browser.find_element(By.ID, "item").text
        body.send_keys(Keys.ARROW_RIGHT, "1", "2")  # items 2 and 3
        browser.find_element(By.ID, "note").send_keys("a note, with \"quotes\"")  # on item 4
        browser.execute_script("document.activeElement.blur();")
        body.send_keys("3", Keys.ARROW_RIGHT, "1")  # item 4 a tie; item 5 is pre-marked; item 6
        # Items 1, 5 and 9 (doc 0 of each task) have identical outputs; 2, 3, 4 and 6 were labelled.
        assert browser.find_element(By.ID, "progress").text.startswith("7 of 12 labelled")
        browser.refresh()  # nothing lost
        assert browser.find_element(By.ID, "progress").text.startswith("7 of 12 labelled")
        assert browser.find_element(By.ID, "annotator").get_attribute("value") == "alice"
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT, Keys.ARROW_LEFT)
        assert browser.find_element(By.ID, "note").get_attribute("value") == "a note, with \"quotes\""
        browser.execute_script("window.confirm = () => true;")
        browser.find_element(By.ID, "export").click()
        target = downloads / "annotations_alice.csv"
        for _ in range(600):  # up to a minute: a loaded machine can be slow to write the download
            if target.is_file() and target.stat().st_size:
                break
            import time
            time.sleep(0.1)
    finally:
        browser.quit()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    by_id = {r["item_id"]: r for r in rows}
    assert len(rows) == 7 and {r["study_id"] for r in rows} == {info["study_id"]} and {r["annotator"] for r in rows} == {"alice"}
    sequence = [by_id[items[k]["id"]]["choice"] for k in (1, 2, 3, 5)]
    assert sequence == ["left", "right", "tie", "left"]
    assert by_id[items[3]["id"]]["note"] == "a note, with \"quotes\"" and float(by_id[items[1]["id"]]["seconds"]) >= 0
    assert by_id[items[8]["id"]]["choice"] == "tie" and by_id[items[8]["id"]]["note"] == "identical outputs"


def test_report_out_that_is_a_file_is_one_line(tmp_path, capsys):
    from ecomgpt.compare import main as compare_main

    taken = tmp_path / "taken"
    taken.write_text("x", encoding="utf-8")
    assert compare_main(["report", str(tmp_path), "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and err.count("\n") == 1 and taken.read_text(encoding="utf-8") == "x"


def test_prepare_refuses_the_same_run_twice_and_a_missing_samples_file(runs, tmp_path, capsys):
    assert compare_main(["prepare", str(runs[0]), str(runs[0]), "--out", str(tmp_path / "same")]) == 2
    assert "are the same run" in capsys.readouterr().err
    gone = next(runs[1].glob("samples_*.jsonl"))
    task = gone.name.removeprefix("samples_").rsplit("_", 1)[0]
    gone.unlink()
    assert compare_main(["prepare", str(runs[0]), str(runs[1]), "--out", str(tmp_path / "lacking")]) == 2
    err = capsys.readouterr().err
    assert f"no samples file beside it for {task}" in err and "--tasks" in err and err.count("\n") == 1
    others = ",".join(t for t in TASKS if t != task)
    assert compare_main(["prepare", str(runs[0]), str(runs[1]), "--out", str(tmp_path / "ok"), "--tasks", others]) == 0


def test_the_page_and_the_study_do_not_carry_the_seed(runs, tmp_path):
    study = prepare(runs, tmp_path / "s", "--per-task", "2", "--seed", "12345")
    assert "seed" not in json.loads((study / "study.json").read_text())
    assert "12345" not in (study / "annotate.html").read_text() and "12345" not in (study / "items.jsonl").read_text()
    assert json.loads((study / "key.json").read_text())["seed"] == 12345


def test_identical_outputs_everywhere_are_warned_about(tmp_path, capsys):
    a = make_run(tmp_path / "runs", "model-one", lambda task, d: f"says {d}")
    b = make_run(tmp_path / "runs", "model-two", lambda task, d: f"says {d}")
    prepare((a, b), tmp_path / "s")
    assert "the same output for every item" in capsys.readouterr().err


@pytest.mark.parametrize(("answer", "verdict"), [
    ("1", "1"), ("2.", "2"), ("Tie", "tie"), ("Answer 1 is better", "1"), ("Output 2", "2"),
    ("It's a tie.", "tie"), ("answer #2 is more accurate", "2"), ("Answer 1 is better than answer 2", None),
    ("Both are fine", None), ("I cannot judge this.", None), ("Answer 1 and answer 2 tie", None), ("", None),
])
def test_parse_verdict_reads_the_common_verbose_forms(answer, verdict):
    from ecomgpt.compare import parse_verdict

    assert parse_verdict(answer) == verdict


def test_a_judge_that_cannot_judge_is_counted_not_tied(runs, tmp_path, capsys, monkeypatch):
    from openai_server import FakeOpenAI

    study = prepare(runs, tmp_path / "s", "--per-task", "4")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def answer(messages):  # readable for the Reddit items only: 3 of the 9 judged items
        return "1" if "redditqa" in messages[-1]["content"].lower() or "extract qa" in messages[-1]["content"] \
            else "As an AI, I would rather not say."

    with FakeOpenAI(faults=(None,), answer=answer) as server:
        assert compare_main(["judge", str(study), "--model", "j", "--base_url", server.base_url,
                             "--cache-dir", str(tmp_path / "cache")]) == 0
    said = capsys.readouterr().out
    unparsable = int(re.search(r"(\d+) unparsable answers", said)[1])
    rows = list(csv.DictReader((study / "annotations_judge_j.csv").open(encoding="utf-8")))
    unjudged = [r for r in rows if r["choice"] == "unjudged"]
    assert unparsable == 2 * len(unjudged) and unjudged and all("unparsable answer" in r["note"] for r in unjudged)
    # More than 10% unjudged: the report refuses in one line, unless accepted; then they are counted apart.
    assert compare_main(["report", str(study), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"{len(unjudged)} of 12 judgements" in err and "--accept-unjudged" in err and err.count("\n") == 1
    assert compare_main(["report", str(study), "--out", str(tmp_path / "r"), "--accept-unjudged"]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["overall"]["unjudged"] == len(unjudged) and report["overall"]["n"] == 12 - len(unjudged)
    assert report["overall"]["win"] + report["overall"]["tie"] + report["overall"]["lose"] == 12 - len(unjudged)
    assert "could not be read as a verdict (unjudged)" in (tmp_path / "r" / "report.md").read_text()
