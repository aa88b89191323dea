"""`ecomgpt fetch` / `ecomgpt verify` against a local mirror, and the `ecomgpt-eval` argument handling."""

import shutil

import pytest

from ecom_tasks import TASKS_DIR
from ecom_tasks.data import COMPLETE_MARKER
from ecom_tasks.data import eval_dir as resolve_eval_dir
from ecom_tasks.fetch import fetch, verify_dir
from ecomgpt_core.download import DownloadError
from ecomgpt.cli import _with_include_path, main
from ecomgpt_core.errors import EcomGPTError


def test_release_manifest_matches_the_shared_copy(eval_dir):
    assert verify_dir(eval_dir) == []


def test_fetch_from_a_mirror_fills_the_cache_and_is_used(eval_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "cache"))
    dest = fetch(base_url=eval_dir.as_uri())
    assert (dest / COMPLETE_MARKER).is_file()
    assert verify_dir(dest) == []
    assert len(list(dest.glob("*/tasks/*/test.json"))) == 13
    monkeypatch.delenv("ECOMGPT_EVAL_DIR")
    assert resolve_eval_dir() == dest


def test_fetch_refuses_a_corrupted_mirror_and_leaves_no_data_folder(eval_dir, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(eval_dir, mirror)
    bad = mirror / "Reddit_QA/tasks/EN-Reddit_QA-Extract-Extract_QA/test.json"
    bad.write_text(bad.read_text(encoding="utf-8").replace("Context", "Kontext", 1), encoding="utf-8")
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match=r"EN-Reddit_QA-Extract-Extract_QA/test\.json: .* has sha256 \w+ .*expected 8d35c5acc7fc"):
        fetch(dest, base_url=mirror.as_uri())
    assert not dest.exists()


def test_verify_command_reports_a_changed_file(eval_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(eval_dir, copy)
    (copy / "ABSA/tasks/EN-ABSA-CLS-review_topic_category/meta-info.json").write_text("{}", encoding="utf-8")
    assert main(["verify", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "EN-ABSA-CLS-review_topic_category/meta-info.json: content differs" in err
    assert "ecomgpt verify: error: 1 file(s) differ from the release" in err


def test_ecomgpt_eval_adds_the_include_path():
    assert _with_include_path(["--model", "hf", "--tasks", "ecom_unseen"]) == [
        "run", "--model", "hf", "--tasks", "ecom_unseen", "--include_path", str(TASKS_DIR)]
    assert _with_include_path(["ls", "tasks"]) == ["ls", "tasks", "--include_path", str(TASKS_DIR)]
    assert _with_include_path(["--help"]) == ["--help"]
    with pytest.raises(EcomGPTError, match="sets --include_path"):
        _with_include_path(["--tasks", "x", "--include_path=/elsewhere"])


def test_ecomgpt_eval_knows_its_own_names_and_checks_data_before_any_model(capsys, monkeypatch, tmp_path):
    from ecomgpt.cli import eval_main

    assert eval_main(["ls", "tasks"]) == 0
    listed = capsys.readouterr().out
    assert "group  ecom_unseen\n" in listed and "task   ecom_lenovo_ner_release" in listed and "tag    ecom_zh" in listed
    assert len(listed.splitlines()) < 60  # ours only, not lm-eval's thousands
    assert eval_main(["--tasks", "ecom_unsen", "--model", "hf", "--model_args", "pretrained=none"]) == 2
    assert "did you mean ecom_unseen" in capsys.readouterr().err
    monkeypatch.setenv("ECOMGPT_EVAL_DIR", str(tmp_path / "missing"))
    assert eval_main(["--tasks", "ecom_unseen", "--model", "hf", "--model_args", "pretrained=none"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_version_and_tasks_path(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("ecomgpt ")
    assert main(["tasks-path"]) == 0
    assert capsys.readouterr().out.strip() == str(TASKS_DIR)


def test_ecomgpt_eval_help_starts_with_this_suite(capsys):
    from ecomgpt.cli import eval_main

    with pytest.raises(SystemExit):
        eval_main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("ecomgpt-eval: lm-eval with the EcomGPT held-out suite")
    assert out.index("ECOMGPT_EVAL_DIR") < out.index("lm-eval's own options follow")


def test_ecomgpt_eval_refuses_an_abbreviated_option(capsys):
    from ecomgpt.cli import eval_main

    assert eval_main(["--task", "ecom_unseen", "--model", "hf", "--model_args", "pretrained=x"]) == 2
    err = capsys.readouterr().err
    assert "--task is not an option of lm-eval run; write the whole name (--tasks)" in err and err.count("\n") == 1


def test_ecomgpt_fetch_from_a_local_copy_fills_the_cache(eval_dir, tmp_path, monkeypatch, capsys):
    from ecomgpt.cli import main

    monkeypatch.delenv("ECOMGPT_EVAL_DIR")
    monkeypatch.setenv("ECOMGPT_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["fetch", "--from", str(eval_dir)]) == 0
    assert "every hash checked (imported from" in capsys.readouterr().out
    assert resolve_eval_dir() == tmp_path / "cache/ecominstruct_eval/eaa846f" and verify_dir(resolve_eval_dir()) == []
    assert main(["fetch", "--from", str(tmp_path / "nowhere")]) == 0  # already there: --from is not even read
    assert "already there, every hash checked; nothing written" in capsys.readouterr().out
    broken = tmp_path / "broken"
    shutil.copytree(eval_dir, broken)
    next(broken.glob("ABSA/tasks/*/test.json")).write_text("{}\n", encoding="utf-8")
    assert main(["fetch", "--from", str(broken), "--dest", str(tmp_path / "other")]) == 2
    assert "differ from the release" in capsys.readouterr().err and not (tmp_path / "other").exists()


def test_a_malformed_test_file_is_named_before_any_model_loads(eval_dir, tmp_path, monkeypatch, capsys):
    from ecomgpt.cli import eval_main

    copy = tmp_path / "eval"
    shutil.copytree(eval_dir, copy)
    bad = next(copy.glob("Reddit_QA/tasks/*/test.json"))
    lines = bad.read_text(encoding="utf-8").split("\n")
    lines[41] = lines[41][:-5]  # a cut line
    bad.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setenv("ECOMGPT_EVAL_DIR", str(copy))
    # pretrained= names no model: had the data not been checked first, loading it would be the error
    assert eval_main(["--tasks", "ecom_unseen", "--model", "hf", "--model_args", "pretrained=/nonexistent"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:42: malformed JSON" in err and "nonexistent" not in err
