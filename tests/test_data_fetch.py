"""`ecomgpt-data fetch` against a local mirror with the upstream layout (`<owner>/<repo>/<commit>/<path>`, served
by http.server on the loopback), and the one rule by which every command finds its data."""

from __future__ import annotations

import errno
import filecmp
import functools
import hashlib
import json
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecomgpt_core.locations import DataKind, DataLocationError, locate
from ecomgpt_data import fetch, heldout, raw
from ecomgpt_data.cli import main as data_main

SHARED = Path(os.environ.get("ECOMGPT_RAW_DIR", "")).resolve().parent
ORIGINALS = SHARED / "ecom_raw_upstream_originals"
HELDOUT = SHARED / "heldout_train"
SMALL = ["wands_queries", "amazon_counterfactual_reviews_en", "zol_phone_review_helpfulness_zh"]


def mirror_of(registry: dict, local: Path, upstream_copies: dict[tuple[str, str], Path], root: Path) -> Path:
    """`root` laid out as raw.githubusercontent.com serves the registry's files (links to the local copies)."""
    for folder, source in registry.items():
        for name, entry in source["files"].items():
            target = root / source["repository"] / source["commit"] / entry["upstream_path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(Path(upstream_copies.get((folder, name), local / folder / name)).resolve())
    return root


@pytest.fixture(scope="module")
def serve():
    servers = []

    def start(root: Path) -> str:
        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def raw_mirror(tmp_path_factory, serve) -> tuple[str, Path]:
    raw_dir = Path(os.environ["ECOMGPT_RAW_DIR"])
    modified = {(folder, name): ORIGINALS / folder / name for folder, source in raw.registry().items()
                for name, entry in source["files"].items() if "upstream" in entry}
    root = mirror_of(raw.registry(), raw_dir, modified, tmp_path_factory.mktemp("mirror"))
    return serve(root), root


def test_registry_has_one_record_per_file_with_its_origin():
    registry = raw.registry()
    assert len(registry) == 27 and sum(len(s["files"]) for s in registry.values()) == 126
    for source in registry.values():
        assert len(source["commit"]) == 40 and source["repository"].count("/") == 1
        for entry in source["files"].values():
            assert len(entry["sha256"]) == 64 and entry["size"] > 0 and entry["upstream_path"]
            assert ("upstream" in entry) == ("why" in entry)  # a changed copy always says why
    changed = sorted(f"{folder}/{name}" for folder, s in registry.items() for name, e in s["files"].items()
                     if "upstream" in e)
    assert changed == ["amazon_counterfactual_reviews_en/data/EN-ext_train.tsv",
                       "amazon_counterfactual_reviews_en/data/EN_valid.tsv",
                       "amazon_qa_appliances_mcauley/qa_Appliances.json"]


def test_a_small_fetch_reproduces_the_shipped_copies_and_resumes(raw_mirror, tmp_path, capsys):
    url, _ = raw_mirror
    dest = tmp_path / "raw"
    assert data_main(["fetch", "--base-url", url, "--dest", str(dest), "--source", *SMALL, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {dest}: 11 of 11 files downloaded" in out and f"--raw-dir {dest}" in out
    shipped = Path(os.environ["ECOMGPT_RAW_DIR"])
    for folder in SMALL:  # the two counterfactual files are upstream minus one line each: equal to ours
        for name in raw.registry()[folder]["files"]:
            assert filecmp.cmp(dest / folder / name, shipped / folder / name, shallow=False), name
    # A cut-off run: one file gone, one damaged. The rerun fetches those two only.
    (dest / "wands_queries/query.csv").unlink()
    (dest / "amazon_counterfactual_reviews_en/data/EN_valid.tsv").write_bytes(b"cut")
    assert data_main(["fetch", "--base-url", url, "--dest", str(dest), "--source", *SMALL, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2 of 11 files downloaded" in out and "9 already there and verified" in out
    assert filecmp.cmp(dest / "amazon_counterfactual_reviews_en/data/EN_valid.tsv",
                       shipped / "amazon_counterfactual_reviews_en/data/EN_valid.tsv", shallow=False)


def test_a_corrupted_or_missing_mirror_file_is_refused_by_name(raw_mirror, serve, tmp_path, capsys):
    _, root = raw_mirror
    bad = tmp_path / "bad"
    shutil.copytree(root / "wayfair", bad / "wayfair", symlinks=False)
    query = next(bad.rglob("query.csv"))
    data = bytearray(query.read_bytes())
    data[100] ^= 1
    query.write_bytes(bytes(data))
    expected = raw.registry()["wands_queries"]["files"]["query.csv"]["sha256"]
    actual = hashlib.sha256(bytes(data)).hexdigest()
    url = serve(bad)
    dest = tmp_path / "raw"
    assert data_main(["fetch", "--base-url", url, "--dest", str(dest), "--source", "wands_queries",
                      "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "wands_queries/query.csv" in err and actual in err and expected in err
    assert not (dest / "wands_queries/query.csv").exists()
    assert data_main(["fetch", "--base-url", url, "--dest", str(dest), "--source", "advertisegen_dev",
                      "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "advertisegen_dev/dev.json: not found (HTTP 404)" in err and "--base-url" in err


def test_a_full_disk_and_an_unknown_source_are_one_line(raw_mirror, tmp_path, capsys, monkeypatch):
    url, _ = raw_mirror

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "write_atomic", full)
    assert data_main(["fetch", "--base-url", url, "--dest", str(tmp_path), "--source", "wands_queries",
                      "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "disk is full while writing" in err and "query.csv" in err
    assert data_main(["fetch", "--source", "no_such_source", "--dest", str(tmp_path)]) == 2
    assert "unknown source 'no_such_source'" in capsys.readouterr().err


def test_heldout_splits_fetch_and_the_reddit_cut(serve, tmp_path, capsys, monkeypatch):
    """ABSA and MEPAVE are upstream files unchanged; the Reddit file is upstream cut to its first 1,032 paragraphs.
    The real upstream file is not here, so the mirror serves a stand-in: the shipped subset plus paragraphs
    after it, and the registry's upstream hash is that stand-in's (the rule under test is the cut)."""
    subset = json.loads((HELDOUT / "Reddit_QA/reddit_v1.0.train_subset.json").read_bytes())
    extra = [{"context": f"test paragraph {i}", "qas": []} for i in range(3)]
    article = subset["data"][0]
    upstream = json.dumps({**subset, "data": [{**article, "paragraphs": article["paragraphs"] + extra}]}).encode()
    stand_in = tmp_path / "reddit_v1.0.json"
    stand_in.write_bytes(upstream)
    registry = json.loads(json.dumps(heldout.registry()))
    entry = registry["Reddit_QA"]["files"]["reddit_v1.0.train_subset.json"]
    entry["upstream"] = {"sha256": hashlib.sha256(upstream).hexdigest(), "size": len(upstream)}
    monkeypatch.setattr(heldout, "registry", lambda: registry)
    root = mirror_of(registry, HELDOUT, {("Reddit_QA", "reddit_v1.0.train_subset.json"): stand_in},
                     tmp_path / "mirror")
    dest = tmp_path / "heldout"
    assert data_main(["fetch", "--heldout", "--base-url", serve(root), "--dest", str(dest), "--no-progress"]) == 0
    assert "4 of 4 files downloaded" in capsys.readouterr().out
    for folder, source in registry.items():
        for name in source["files"]:
            assert filecmp.cmp(dest / folder / name, HELDOUT / folder / name, shallow=False), name


def test_one_rule_finds_every_kind_of_data(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "cache"))
    kind = DataKind(what="the things", variable="ECOMGPT_TEST_DIR", cache_subdir="things",
                    fetch_command="ecomgpt-data fetch --things")
    monkeypatch.delenv("ECOMGPT_TEST_DIR", raising=False)
    with pytest.raises(DataLocationError, match=r"the things not found: run `ecomgpt-data fetch --things` to "
                                                r"download them into .*cache/things .*--from DIR.*--dir DIR or "
                                                r"ECOMGPT_TEST_DIR"):
        locate(kind, None, "--dir")
    (tmp_path / "cache/things").mkdir(parents=True)
    assert locate(kind) == tmp_path / "cache/things"  # the cache ...
    (tmp_path / "env").mkdir()
    monkeypatch.setenv("ECOMGPT_TEST_DIR", str(tmp_path / "env"))
    assert locate(kind) == tmp_path / "env"  # ... then the variable ...
    (tmp_path / "flag").mkdir()
    assert locate(kind, tmp_path / "flag", "--dir") == tmp_path / "flag"  # ... then the option
    with pytest.raises(DataLocationError, match="--dir .*nowhere is not a folder"):
        locate(kind, tmp_path / "nowhere", "--dir")
    # The three kinds of this project, each with the command that fills its cache folder.
    assert raw.KIND.cached() == tmp_path / "cache/raw" and raw.KIND.fetch_command == "ecomgpt-data fetch"
    assert heldout.KIND.fetch_command == "ecomgpt-data fetch --heldout"


@pytest.mark.slow
def test_a_mixture_built_from_a_fetched_folder_is_byte_identical(raw_mirror, tmp_path, capsys):
    """The issue's check: fetch everything from the mirror, then build --per-task 16 over the fetched folder and
    over the shipped one: the same bytes and the same manifest counts."""
    url, _ = raw_mirror
    dest = tmp_path / "fetched"
    assert data_main(["fetch", "--base-url", url, "--dest", str(dest), "--no-progress"]) == 0
    assert "126 of 126 files downloaded" in capsys.readouterr().out
    builds = {}
    for name, folder in (("fetched", dest), ("shipped", Path(os.environ["ECOMGPT_RAW_DIR"]))):
        out = tmp_path / f"mix-{name}"
        assert data_main(["build", "--raw-dir", str(folder), "--per-task", "16", "--out", str(out), "--no-progress",
                          "--no-cache"]) == 0
        builds[name] = out
    capsys.readouterr()
    assert (builds["fetched"] / "mixture.jsonl").read_bytes() == (builds["shipped"] / "mixture.jsonl").read_bytes()
    manifests = [json.loads((b / "manifest.json").read_text()) for b in builds.values()]
    assert manifests[0]["totals"] == manifests[1]["totals"] and manifests[0]["totals"]["selected"] > 1000
    assert manifests[0]["raw_files_differing_from_snapshot"] == []
    assert [m["sources"][s]["files"] for m in manifests for s in ["amazon_counterfactual_reviews_en"]][0] == \
        manifests[1]["sources"]["amazon_counterfactual_reviews_en"]["files"]
