"""Shared fixtures: the evaluation data folder (from ECOMGPT_EVAL_DIR) and a tiny local BLOOM model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def borrow_venv(clone: Path) -> None:
    """Give a fresh clone this checkout's installed .venv and pyproject.toml (which may be ahead of the last
    commit). Refuses when .venv was not set up from this pyproject.toml by scripts/install.sh: the clone's
    scripts would then reinstall the shared environment from the clone's (temporary) folder, leaving this
    checkout's editable install pointing there."""
    import hashlib
    import shutil

    stamp = REPO / ".venv" / f".ecomgpt-installed-{hashlib.sha256((REPO / 'pyproject.toml').read_bytes()).hexdigest()[:16]}"
    if not stamp.exists():
        pytest.fail(f".venv was not installed from the current pyproject.toml ({stamp.name} missing): "
                    "run `bash scripts/install.sh` first")
    (clone / ".venv").symlink_to(REPO / ".venv")
    shutil.copy2(REPO / "pyproject.toml", clone / "pyproject.toml")


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    configured = os.environ.get("ECOMGPT_EVAL_DIR")
    if not configured or not Path(configured).is_dir():
        pytest.fail(
            "ECOMGPT_EVAL_DIR must point at the released evaluation sets (e.g. ../shared/ecominstruct_eval); "
            f"it is {configured!r}. Run the tests through .ci/run or set it."
        )
    return Path(configured)


@pytest.fixture(scope="session")
def tiny_bloom(eval_dir, tmp_path_factory) -> Path:
    """A random-weight BLOOM with a tokenizer trained on the evaluation texts (never written into git)."""
    from ecomgpt.tiny_bloom import make_tiny_bloom

    texts = [
        json.loads(line)["sentences"]
        for path in sorted(eval_dir.glob("*/tasks/*/test.json"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return make_tiny_bloom(tmp_path_factory.mktemp("tiny_bloom"), texts)


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory) -> Path:
    """Builds write selection logs into the per-user cache; the tests keep theirs in a temporary folder."""
    folder = tmp_path_factory.mktemp("ecomgpt-cache")
    os.environ["ECOMGPT_CACHE_DIR"] = str(folder)
    return folder


FIXTURE_RAW = Path(__file__).parent / "fixtures" / "ecom_raw"


@pytest.fixture(scope="session")
def raw_fixture_dir(tmp_path_factory) -> Path:
    """The hand-written raw fixtures, with the online-shopping CSV zipped and the ZOL reviews in xlsx workbooks,
    as the real datasets ship them."""
    import shutil
    import zipfile

    root = tmp_path_factory.mktemp("raw") / "ecom_raw"
    shutil.copytree(FIXTURE_RAW, root)
    folder = root / "online_shopping_10_cats"
    with zipfile.ZipFile(folder / "online_shopping_10_cats.zip", "w") as archive:
        archive.write(folder / "online_shopping_10_cats.csv", "online_shopping_10_cats.csv")
    (folder / "online_shopping_10_cats.csv").unlink()
    # the ZOL reviews as the xlsx workbooks the real dataset ships (rows written here, not binaries in git)
    import openpyxl

    folder = root / "zol_phone_review_helpfulness_zh"
    for name, rows in json.loads((folder / "reviews.json").read_text(encoding="utf-8")).items():
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.create_sheet("Sheet2")
        book.save(folder / name)
    (folder / "reviews.json").unlink()
    return root


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    configured = os.environ.get("ECOMGPT_RAW_DIR")
    if not configured or not Path(configured).is_dir():
        pytest.fail(f"ECOMGPT_RAW_DIR must point at ../shared/ecom_raw; it is {configured!r}. Run through .ci/run.")
    return Path(configured)


# the recipes' settings for tiny, fast runs
SMALL = ["--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--max_length", "192",
         "--logging_steps", "1", "--save_steps", "1000", "--warmup_steps", "0"]


@pytest.fixture(scope="session")
def mixture(raw_fixture_dir, tmp_path_factory) -> Path:
    """A 2-per-task mixture of the raw fixtures, for the recipes' tests."""
    from ecomgpt_data.config import MixtureConfig
    from ecomgpt_data.mixture import build

    out = tmp_path_factory.mktemp("mixture") / "mix"
    build(MixtureConfig(raw_dir=str(raw_fixture_dir), per_task=2).validate(), out, progress=False)
    return out


@pytest.fixture(scope="session")
def rows(mixture) -> list[dict]:
    return [json.loads(line) for line in (mixture / "mixture.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def model_dir(rows, tmp_path_factory) -> Path:
    from ecomgpt.tiny_bloom import make_tiny_bloom

    return make_tiny_bloom(tmp_path_factory.mktemp("tiny"), [r["prompt"] + "\n" + r["response"] for r in rows],
                           vocab_size=1500)


def subset(rows, path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[:n]), encoding="utf-8")
    return path


def weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def chromium():
    """(selenium webdriver module, Chromium binary, chromedriver), "" or None and why not."""
    from shutil import which

    try:
        from selenium import webdriver
    except ImportError:
        return None, "selenium is not installed (pip install -e '.[dev]')"
    binary = which("chromium") or which("chromium-browser") or which("google-chrome")
    driver = which("chromedriver")
    if not binary or not driver:
        return None, "no Chromium / chromedriver on PATH (Debian: apt-get install chromium chromium-driver; .ci/run does)"
    return (webdriver, binary, driver), ""
