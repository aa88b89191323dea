"""Damaged raw data never passes silently: an empty or cut file differs from the snapshot its SOURCE.md names (a
warning naming the file, an error with --strict), a source that yields nothing is an error, bytes that are not
UTF-8 are named by file and line (and skipped and counted with --on-error skip), a damaged zip is named."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from ecomgpt_data.config import MixtureConfig
from ecomgpt_data.errors import BuildError, RawDataError
from ecomgpt_data.mixture import build


def build_wands(raw, tmp_path, **options):
    return build(MixtureConfig(raw_dir=str(raw), sources=["wands_queries"], per_task=5, **options).validate(),
                 tmp_path / "out", progress=False)


@pytest.fixture
def real_wands(raw_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_dir / "wands_queries", raw / "wands_queries")
    return raw


def test_the_shipped_snapshot_builds_without_a_difference(real_wands, tmp_path):
    manifest = build_wands(real_wands, tmp_path)
    assert manifest["raw_files_differing_from_snapshot"] == []


def test_a_file_cut_mid_line_is_named_and_strict_refuses_it(real_wands, tmp_path, caplog):
    path = real_wands / "wands_queries" / "query.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\t") + 4])  # the last line loses most of its class: "Sof"
    with caplog.at_level("WARNING", logger="ecomgpt_data"):
        manifest = build_wands(real_wands, tmp_path)
    [difference] = manifest["raw_files_differing_from_snapshot"]
    assert difference.startswith("wands_queries/query.csv: ") and "the snapshot has" in difference
    assert any("query.csv" in r.getMessage() for r in caplog.records)
    with pytest.raises(BuildError, match=r"differ from their snapshots \(--strict\): wands_queries/query.csv"):
        build(MixtureConfig(raw_dir=str(real_wands), sources=["wands_queries"], strict=True).validate(),
              tmp_path / "strict", progress=False)
    assert not (tmp_path / "strict").exists()


def test_a_source_that_yields_no_record_is_an_error(real_wands, tmp_path):
    (real_wands / "wands_queries" / "query.csv").write_bytes(b"")
    with pytest.raises(BuildError, match="source wands_queries yielded no record"):
        build_wands(real_wands, tmp_path)
    assert not (tmp_path / "out").exists()


def test_bytes_that_are_not_utf8_are_named_and_skippable(raw_fixture_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    path = raw / "wands_queries" / "query.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"mirror", b"mirr\xff\xfeor")
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(RawDataError, match=r"wands_queries/query\.csv:3: not valid UTF-8"):
        build_wands(raw, tmp_path)
    manifest = build_wands(raw, tmp_path, on_error="skip")
    report = manifest["sources"]["wands_queries"]
    assert report["malformed"] == 1 and "query.csv:3: not valid UTF-8" in report["malformed_examples"][0]


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_a_damaged_zip_archive_is_named(raw_fixture_dir, tmp_path, damage):
    raw = tmp_path / "raw"
    shutil.copytree(raw_fixture_dir, raw)
    archive = raw / "online_shopping_10_cats" / "online_shopping_10_cats.zip"
    assert zipfile.is_zipfile(archive)
    archive.write_bytes(archive.read_bytes()[:40] if damage == "truncated" else b"")
    with pytest.raises(BuildError, match=r"online_shopping_10_cats: a zip archive is damaged"):
        build(MixtureConfig(raw_dir=str(raw), sources=["online_shopping_10_cats"]).validate(), tmp_path / "o",
              progress=False)
