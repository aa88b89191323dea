"""Selection logs: a build no larger than an earlier one replays the earlier build's logs and writes exactly what
it would write from the raw data; a log that does not cover the build is not used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from planted import plant_absa_review

from ecomgpt_data.cli import main as data_main
from ecomgpt_data.config import MixtureConfig
from ecomgpt_data.mixture import build
from ecomgpt_data.selection_log import log_dir


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def raw(raw_fixture_dir, eval_dir, tmp_path) -> Path:
    """The raw fixtures with two held-out evaluation sentences planted, so that replays meet the guard."""
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    plant_absa_review(raw, eval_dir)
    lenovo = eval_dir / "Lenovo/tasks/EN-Lenovo-NER-NER/test.json"
    held = json.loads(lenovo.read_text(encoding="utf-8").splitlines()[3])["sentences"]
    with (raw / "wands_queries/query.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"9\t{held.upper()}\tSofas\n")
    return raw


def make(raw: Path, out: Path, cache: bool = True, **options) -> tuple[dict, bytes]:
    manifest = build(MixtureConfig(raw_dir=str(raw), **options).validate(), out, progress=False, cache=cache)
    return manifest, (out / "mixture.jsonl").read_bytes()


def without_logs(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k != "selection_logs"}


def test_a_smaller_build_replays_the_logs_and_writes_what_the_raw_data_gives(raw, cache, tmp_path):
    recorded, full = make(raw, tmp_path / "full", per_task=3)
    sources = sorted(recorded["sources"])
    assert sorted(recorded["selection_logs"]["written"]) == sources and not recorded["selection_logs"]["replayed"]
    assert recorded["selection_logs"]["folder"] == str(log_dir()) and str(cache) in str(log_dir())
    assert recorded["sources"]["wands_queries"]["guard_dropped_records"] == 1
    assert recorded["sources"]["amazon_counterfactual_reviews_en"]["guard_dropped_records"] == 1
    # Recording changes nothing.
    plain_full, plain_bytes = make(raw, tmp_path / "plain-full", cache=False, per_task=3)
    assert plain_bytes == full and without_logs(plain_full) == without_logs(recorded)
    assert plain_full["selection_logs"] == {"replayed": [], "written": [], "folder": str(log_dir())}

    for per_task in (2, 1):
        replayed, small = make(raw, tmp_path / f"replayed-{per_task}", per_task=per_task)
        assert sorted(replayed["selection_logs"]["replayed"]) == sources
        assert not replayed["selection_logs"]["written"]
        plain, plain_small = make(raw, tmp_path / f"plain-{per_task}", cache=False, per_task=per_task)
        assert small == plain_small  # byte-identical mixture
        assert without_logs(replayed) == without_logs(plain)  # and every count, the guard's included
        assert replayed["sources"]["wands_queries"]["guard_dropped_records"] == \
            plain["sources"]["wands_queries"]["guard_dropped_records"]
    assert replayed["totals"]["selected"] < recorded["totals"]["selected"]


@pytest.mark.slow
def test_logs_that_do_not_cover_a_build_are_not_replayed(raw, cache, tmp_path):
    make(raw, tmp_path / "two", per_task=2)
    bigger, _ = make(raw, tmp_path / "three", per_task=3)  # more than the logs hold: streamed, logs rewritten
    assert not bigger["selection_logs"]["replayed"] and bigger["selection_logs"]["written"]
    again, _ = make(raw, tmp_path / "three-again", per_task=3)
    assert again["selection_logs"]["replayed"] and not again["selection_logs"]["written"]
    smaller, _ = make(raw, tmp_path / "one", per_task=1)  # the per_task 3 logs stay: they cover more
    assert smaller["selection_logs"]["replayed"] and not smaller["selection_logs"]["written"]

    reseeded, _ = make(raw, tmp_path / "seed", per_task=1, seed=5)
    assert not reseeded["selection_logs"]["replayed"]
    fewer_tasks, _ = make(raw, tmp_path / "few", per_task=1, num_tasks=10)  # other task sets per source
    replayed_sources = set(fewer_tasks["selection_logs"]["replayed"])
    for name in replayed_sources:
        built = {t for t, info in fewer_tasks["tasks"].items() if info["source"] == name}
        assert built == {t for t, info in again["tasks"].items() if info["source"] == name}
    assert replayed_sources < set(again["sources"])

    with (raw / "wands_queries/query.csv").open("a", encoding="utf-8") as handle:
        handle.write("11\tgrey corner sofa with storage\tSofas\n")
    changed, _ = make(raw, tmp_path / "changed", per_task=1)
    assert "wands_queries" not in changed["selection_logs"]["replayed"]
    assert len(changed["selection_logs"]["replayed"]) == len(again["sources"]) - 1

    judged = build(MixtureConfig(raw_dir=str(raw), per_task=1, sources=["wands_queries"]).validate(),
                   tmp_path / "judged", progress=False, quality_filter=lambda prompt, response: True)
    assert judged["selection_logs"]["replayed"] == judged["selection_logs"]["written"] == []


def flipped(data: bytes, at: int) -> bytes:
    """`data` with one byte inverted (inside the compressed arrays: the zip's CRC catches it)."""
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


@pytest.mark.parametrize("damage", ["garbage", "zero-length", "truncated", "bit-flipped"])
def test_a_damaged_log_is_named_once_and_rewritten(raw, cache, tmp_path, caplog, damage):
    _, first = make(raw, tmp_path / "first", per_task=2, sources=["wands_queries"])
    [log] = log_dir().glob("wands_queries-*.npz")
    data = log.read_bytes()
    damaged = {"garbage": b"not a log", "zero-length": b"", "truncated": data[: len(data) // 2],
               "bit-flipped": flipped(data, len(data) // 2)}[damage]
    log.write_bytes(damaged)
    manifest, second = make(raw, tmp_path / "second", per_task=2, sources=["wands_queries"])
    assert second == first and manifest["selection_logs"] == {
        "replayed": [], "written": ["wands_queries"], "folder": str(log_dir())}
    warnings = [r.getMessage() for r in caplog.records if "selection log" in r.getMessage()]
    assert len(warnings) == 1 and "ignoring the unreadable selection log" in warnings[0] and str(log) in warnings[0]
    assert log.read_bytes() != damaged  # rebuilt: the next build replays it
    manifest, third = make(raw, tmp_path / "third", per_task=2, sources=["wands_queries"])
    assert third == first and manifest["selection_logs"]["replayed"] == ["wands_queries"]


def test_stale_temporary_log_files_are_removed(raw, cache, tmp_path):
    import os
    import time

    make(raw, tmp_path / "first", per_task=2, sources=["wands_queries"])
    stale = log_dir() / ".wands_queries-0123456789abcdef0123.npz.x1y2z3"  # what a killed write leaves
    fresh = log_dir() / ".wands_queries-fedcba9876543210fedc.npz.a1b2c3"  # a write in progress now
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    make(raw, tmp_path / "second", per_task=3, sources=["wands_queries"])  # writes a new log
    assert not stale.exists() and fresh.exists()


def test_the_command_line_says_what_was_replayed_and_no_cache_writes_none(raw, cache, tmp_path, capsys):
    common = ["build", "--raw-dir", str(raw), "--source", "wands_queries", "--no-progress", "--per-task", "2"]
    assert data_main([*common, "--out", str(tmp_path / "a"), "--no-cache"]) == 0
    assert not log_dir().exists()
    assert data_main([*common, "--out", str(tmp_path / "b")]) == 0
    assert data_main([*common, "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "0 of 1 sources replayed, 1 written" in out and "1 of 1 sources replayed, 0 written" in out
