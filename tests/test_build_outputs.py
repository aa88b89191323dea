"""What `ecomgpt-data build` may write and replace: refused outputs are refused before any work, --overwrite
replaces only the tool's own output, concurrent builds of one output are refused, a replace is atomic, and
staging folders of killed runs are cleaned up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecomgpt_core.files import _exchange, exclusive_lock, published_dir
from ecomgpt_data.cli import main as data_main
from ecomgpt_data.config import MixtureConfig
from ecomgpt_data.mixture import BuildError, build


def make(raw, out, overwrite=False, **options):
    return build(MixtureConfig(raw_dir=str(raw), sources=["wands_queries"], **options).validate(), out,
                 overwrite=overwrite, progress=False)


def test_overwrite_never_touches_the_working_directory_or_its_ancestors(raw_fixture_dir, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "precious.txt").write_text("keep me")
    monkeypatch.chdir(work)
    for out in (Path("."), work, tmp_path):
        with pytest.raises(BuildError, match="working directory"):
            make(raw_fixture_dir, out, overwrite=True)
    assert (work / "precious.txt").read_text() == "keep me"
    make(raw_fixture_dir, Path("mixtures/new"))  # a new folder under the working directory is fine
    assert (work / "mixtures/new/mixture.jsonl").is_file()


def test_overwrite_never_touches_the_data_folders(raw_fixture_dir, eval_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    for out, what in ((raw, "is the raw data folder"), (raw / "mix", "lies inside the raw data folder"),
                      (tmp_path, "contains the raw data folder"), (eval_dir, "is the evaluation folder")):
        with pytest.raises(BuildError, match=what):
            make(raw, out, overwrite=True)
    assert sorted(p.name for p in raw.iterdir()) == sorted(p.name for p in raw_fixture_dir.iterdir())


def test_overwrite_replaces_only_a_mixture_and_refuses_before_building(raw_fixture_dir, tmp_path, capsys):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "a.txt").write_text("mine")
    started = time.perf_counter()
    code = data_main(["build", "--raw-dir", str(raw_fixture_dir), "--out", str(other), "--overwrite",
                      "--no-progress"])
    assert code == 2 and "is not a folder written by" in capsys.readouterr().err
    assert (other / "a.txt").read_text() == "mine"
    assert time.perf_counter() - started < 5  # refused before reading any source
    out = tmp_path / "mix"
    make(raw_fixture_dir, out, per_task=1)
    make(raw_fixture_dir, out, overwrite=True, per_task=2)
    assert json.loads((out / "manifest.json").read_text())["config"]["per_task"] == 2


def test_a_second_build_into_the_same_output_fails_at_once(raw_fixture_dir, tmp_path):
    out = tmp_path / "mix"
    with exclusive_lock(out), pytest.raises(BuildError, match="another build is writing"):  # as a first build holds it
        make(raw_fixture_dir, out)
    make(raw_fixture_dir, out)  # released with the holder


def test_lock_is_released_when_its_process_is_killed(tmp_path):
    out = tmp_path / "mix"
    code = ("import sys, time; sys.path.insert(0, %r); from pathlib import Path; from ecomgpt_core.files import "
            "exclusive_lock\nwith exclusive_lock(Path(%r)):\n    print('held', flush=True); time.sleep(60)"
            % (str(Path(__file__).resolve().parents[1]), str(out)))
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(BlockingIOError), exclusive_lock(out):
        pass
    holder.kill()
    holder.wait()
    with exclusive_lock(out):
        pass


def test_replace_is_an_atomic_exchange_and_failures_leave_the_old_output(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from_a").touch()
    assert _exchange(a, b) and (b / "from_a").exists() and not (a / "from_a").exists()
    out = tmp_path / "out"
    with published_dir(out) as staging:
        (staging / "v1").write_text("old")
    with pytest.raises(RuntimeError), published_dir(out, replace=True) as staging:
        (staging / "v2").write_text("half")
        raise RuntimeError("killed halfway")
    assert [p.name for p in out.iterdir()] == ["v1"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_stale_staging_of_a_killed_run_is_removed(raw_fixture_dir, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".mix.partial-{dead.pid}"
    stale.mkdir()
    (stale / "mixture.jsonl").write_text("half\n")
    make(raw_fixture_dir, tmp_path / "mix")
    assert not stale.exists()


def test_pseudo_label_never_replaces_a_folder_that_is_not_its_own(raw_fixture_dir, tmp_path):
    from ecomgpt_data.pseudo import pseudo_label

    other = tmp_path / "notes"
    other.mkdir()
    (other / "a.txt").write_text("mine")
    with pytest.raises(BuildError, match="is not a folder written by `ecomgpt-data pseudo-label`"):
        pseudo_label(other, "fake-gpt", raw_dir=str(raw_fixture_dir), base_url="http://127.0.0.1:9/v1")
    assert (other / "a.txt").read_text() == "mine"
    with pytest.raises(BuildError, match="is the raw data folder"):
        pseudo_label(raw_fixture_dir, "fake-gpt", raw_dir=str(raw_fixture_dir), base_url="http://127.0.0.1:9/v1")
