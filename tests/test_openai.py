"""The ecomgpt-openai model and its client against a loopback server that injects faults: every task scored,
each distinct request answered once, kills and reruns repeat nothing, the key is written nowhere."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openai_server import FakeOpenAI

from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.openai_client import ChatRequest, ChatRunner, RateLimiter, RequestsFailed

REPO = Path(__file__).resolve().parents[1]
SECRET = "sk-test-DO-NOT-LEAK-4f1c9a"


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return {**os.environ, "OPENAI_API_KEY": SECRET, "HF_HUB_OFFLINE": "1"}


def eval_command(server: FakeOpenAI, cache: Path, out: Path, limit: int = 3) -> list[str]:
    return [str(Path(sys.executable).parent / "ecomgpt-eval"), "--model", "ecomgpt-openai", "--model_args",
            f"model=fake-gpt,base_url={server.base_url},num_concurrent=8,max_retries=6,timeout=2,cache_dir={cache}",
            "--tasks", "ecom_unseen", "--limit", str(limit), "--output_path", str(out)]


def files_containing(root: Path, text: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


@pytest.mark.slow
def test_eval_survives_faults_answers_each_request_once_and_reruns_for_free(env, tmp_path):
    with FakeOpenAI() as server:
        result = subprocess.run(eval_command(server, tmp_path / "cache", tmp_path / "run1"), env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr[-4000:]
        [results_file] = list((tmp_path / "run1").rglob("results_*.json"))
        results = json.loads(results_file.read_text())
        scored = [t for t in results["results"] if t != "ecom_unseen"]
        assert len(scored) == 12 and all("rouge_l,none" in results["results"][t] for t in scored)
        distinct = len(server.successes)
        assert distinct == 36 and set(server.successes.values()) == {1}
        assert set(server.fault_log) == {"429", "500", "drop", "hang", "slow"}
        assert sum(server.attempts.values()) > distinct
        assert server.api_keys == {f"Bearer {SECRET}"}

        usage = json.loads((tmp_path / "run1" / "usage_fake-gpt.json").read_text())
        assert usage["calls"] == 36 and usage["cached"] == 0 and len(usage["tasks"]) == 12
        assert usage["tasks"]["ecom_lenovo_ner"]["calls"] == 3 and usage["completion_tokens"] == 36 * 3
        assert usage["cost_usd"] is None  # no price for this model name

        again = subprocess.run(eval_command(server, tmp_path / "cache", tmp_path / "run2"), env=env,
                               capture_output=True, text=True, timeout=900)
        assert again.returncode == 0, again.stderr[-4000:]
        assert set(server.successes.values()) == {1} and len(server.successes) == 36  # no new call
        usage = json.loads((tmp_path / "run2" / "usage_fake-gpt.json").read_text())
        assert usage["calls"] == 0 and usage["cached"] == 36
    assert files_containing(tmp_path, SECRET) == []


def answers_in(database) -> int:
    """How many answers the cache holds now; 0 while the run has not created it yet. The run creates the file
    (sqlite3.connect) and then the table, so a poll in between finds a file without the table: not an error."""
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    except sqlite3.OperationalError:  # no such table yet, or the writer holds the lock
        return 0


@pytest.mark.slow
def test_killed_run_resumes_without_paying_twice(env, tmp_path):
    with FakeOpenAI(faults=(None,)) as server:
        server.pause_after = 10
        process = subprocess.Popen(eval_command(server, tmp_path / "cache", tmp_path / "run"), env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        database = tmp_path / "cache" / "answers.sqlite"
        deadline = time.time() + 300
        while time.time() < deadline:
            if answers_in(database) >= 10:
                break
            time.sleep(0.2)
        else:
            process.kill()
            pytest.fail("the run never got 10 answers")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert sum(server.successes.values()) == 10
        server.pause_after = None
        result = subprocess.run(eval_command(server, tmp_path / "cache", tmp_path / "run"), env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr[-4000:]
        assert len(server.successes) == 36 and set(server.successes.values()) == {1}
    assert files_containing(tmp_path, SECRET) == []


@pytest.mark.slow
def test_a_request_that_keeps_failing_is_reported_and_the_rest_kept(env, tmp_path):
    with FakeOpenAI(faults=(None,)) as server:
        runner = ChatRunner("fake-gpt", server.base_url, num_concurrent=2, max_retries=0, timeout=2,
                            cache_dir=tmp_path)
        server.faults = ("500", None)  # by hash: some requests fail on their first attempt, with no retry left
        requests = [ChatRequest([{"role": "user", "content": f"q{i}"}], 5, ["###"], "t") for i in range(8)]
        with pytest.raises(RequestsFailed, match=r"of 8 requests to fake-gpt failed, each after up to 0 retries "
                                                 r"within \d+ s .* run the same command again to resume"):
            runner.run(requests)
        kept = len(runner.cache)
        assert 0 < kept < 8 and kept == sum(server.successes.values())
        assert runner.run(requests) == ["None"] * 8  # second attempts succeed; cached ones are not requested
        assert set(server.successes.values()) == {1}


def test_dry_run_counts_calls_and_cost(env, tmp_path):
    with FakeOpenAI(faults=(None,)) as server:
        runner = ChatRunner("gpt-4o-mini", server.base_url, cache_dir=tmp_path)
        requests = [ChatRequest([{"role": "user", "content": "x" * 100}], 50) for _ in range(3)]
        requests.append(ChatRequest([{"role": "user", "content": "y" * 100}], 50))
        plan = runner.dry_run(requests)
        assert (plan["requests"], plan["distinct"], plan["calls"]) == (4, 2, 2)
        assert plan["prompt_tokens_estimate"] == 200 and plan["completion_tokens_max"] == 100
        assert plan["cost_usd_estimate"] == pytest.approx((200 * 0.15 + 100 * 0.60) / 1e6)
        assert server.attempts == {}


def test_rate_limiter_waits_for_the_window():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(requests_per_minute=2, tokens_per_minute=100, clock=lambda: now[0], sleep=sleep)
    limiter.acquire(10)
    limiter.acquire(10)
    assert slept == []
    limiter.acquire(10)  # third request in the minute waits until the first leaves the window
    assert now[0] == pytest.approx(60.01)
    limiter = RateLimiter(None, tokens_per_minute=100, clock=lambda: now[0], sleep=sleep)
    limiter.acquire(80)
    start = now[0]
    limiter.acquire(30)  # 110 tokens > 100 per minute
    assert now[0] - start == pytest.approx(60.01)


def test_without_a_key_openai_itself_is_refused(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(EcomGPTError, match="set OPENAI_API_KEY"):
        ChatRunner("gpt-4o-mini")


def pseudo_command(server: FakeOpenAI, raw: Path, cache: Path, out: Path, *extra: str) -> list[str]:
    return [str(Path(sys.executable).parent / "ecomgpt-data"), "pseudo-label", "--raw-dir", str(raw), "--out", str(out),
            "--model", "fake-gpt", "--base-url", server.base_url, "--cache-dir", str(cache), "--per-task", "3",
            "--timeout", "2", "--num-concurrent", "4", *extra]


@pytest.mark.slow
def test_pseudo_labeller_faults_resume_and_merge_into_a_mixture(env, raw_fixture_dir, tmp_path):
    from ecomgpt_data.config import MixtureConfig
    from ecomgpt_data.mixture import build

    def answer(messages):
        return "label for " + messages[-1]["content"].rsplit("\n", 1)[-1][:20]

    cache, out = tmp_path / "cache", tmp_path / "pseudo"
    with FakeOpenAI(faults=("500", None), answer=answer) as server:
        dry = subprocess.run(pseudo_command(server, raw_fixture_dir, cache, out, "--dry-run"), env=env,
                             capture_output=True, text=True, timeout=300)
        assert dry.returncode == 0, dry.stderr
        assert "dry run: 12 calls to fake-gpt" in dry.stdout and server.attempts == {} and not out.exists()

        failing = subprocess.run(pseudo_command(server, raw_fixture_dir, cache, out, "--max-retries", "0"), env=env,
                                 capture_output=True, text=True, timeout=300)
        assert failing.returncode == 2 and "run the same command again to resume" in failing.stderr
        assert not out.exists()
        answered_before = sum(server.successes.values())
        assert 0 < answered_before < 12

        done = subprocess.run(pseudo_command(server, raw_fixture_dir, cache, out), env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert len(server.successes) == 12 and set(server.successes.values()) == {1}
        again = subprocess.run(pseudo_command(server, raw_fixture_dir, cache, out), env=env,
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0 and set(server.successes.values()) == {1}

    manifest = json.loads((out / "manifest.json").read_text())
    assert {k: v["instances"] for k, v in manifest["tasks"].items()} == {
        "wands.query_rewriting": 3, "wands.query_segmentation": 3, "online_shopping.review_summary": 3,
        "product_matching.selling_points": 3}
    first = json.loads((out / "wands.query_rewriting.jsonl").read_text().splitlines()[0])
    assert first["model"] == "fake-gpt" and first["prompt"].startswith("Rewrite the following e-commerce search query")
    assert first["output"] == answer([{"content": first["prompt"]}]) and first["prompt"].endswith(first["sentences"])

    config = MixtureConfig(raw_dir=str(raw_fixture_dir), pseudo=[str(out)], sources=["wands_queries"]).validate()
    build(config, tmp_path / "mix", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "mix" / "mixture.jsonl").read_text().splitlines()]
    pseudo = [r for r in rows if r["cot"] == "pseudo_cot"]
    assert {r["task"] for r in pseudo} == {"wands.query_rewriting", "wands.query_segmentation"}
    assert all(r["response"].startswith("label for ") and r["paradigm"] == "GEN" for r in pseudo)
    ablated = MixtureConfig(raw_dir=str(raw_fixture_dir), pseudo=[str(out)], sources=["wands_queries"],
                            no_pseudo_cot=True).validate()
    build(ablated, tmp_path / "mix2", progress=False)
    rows2 = [json.loads(line) for line in (tmp_path / "mix2" / "mixture.jsonl").read_text().splitlines()]
    assert {r["id"] for r in rows2} == {r["id"] for r in rows if r["cot"] != "pseudo_cot"}
    dropped = MixtureConfig(raw_dir=str(raw_fixture_dir), pseudo=[str(out)], drop_sources=["wands_queries"]).validate()
    build(dropped, tmp_path / "mix3", progress=False)
    tasks3 = {json.loads(line)["task"] for line in (tmp_path / "mix3" / "mixture.jsonl").read_text().splitlines()}
    assert "online_shopping.review_summary" in tasks3 and not any(t.startswith("wands.") for t in tasks3)
    assert files_containing(tmp_path, SECRET) == []


def test_registering_keeps_lm_evals_own_models():
    from lm_eval.api.registry import get_model

    import ecomgpt.openai_model  # noqa: F401

    assert get_model("ecomgpt-openai").__name__ == "EcomOpenAI"
    assert get_model("hf").__name__ == "HFLM"
    assert get_model("local-chat-completions").__name__ == "LocalChatCompletion"


def results_of(folder: Path) -> dict:
    (results,) = folder.rglob("results_*.json")
    return {task: {k: v for k, v in metrics.items() if k.endswith(",none") and "stderr" not in k}
            for task, metrics in json.loads(results.read_text())["results"].items()}


@pytest.mark.slow
def test_completions_endpoint_scores_like_lm_evals_local_completions(env, eval_dir, tmp_path):
    """A base model without a chat template behind an OpenAI-compatible server (vLLM serving BLOOMZ): ecomgpt-openai
    with endpoint=completions and lm-eval's own local-completions send the same prompts to /v1/completions and
    get the same scores from the same answers."""
    from echo_lm import answer as echo

    from ecom_tasks._generate_configs import TASK_NAMES
    from ecom_tasks.utils import build_docs

    targets = {doc["prompt"]: doc["target"] for folder in TASK_NAMES for doc in build_docs(folder)}

    def answer(messages):  # the echo model's answers: the gold target for two prompts in three, deterministic
        return echo(messages[-1]["content"], targets[messages[-1]["content"]])

    tasks = "ecom_absa_review_topic,ecom_lenovo_ner,ecom_mepave_value_detection"
    bin_dir = Path(sys.executable).parent
    with FakeOpenAI(faults=(None,), answer=answer) as server:
        ours = subprocess.run(
            [str(bin_dir / "ecomgpt-eval"), "--model", "ecomgpt-openai", "--model_args",
             f"model=bloomz-served,base_url={server.base_url},endpoint=completions,cache_dir={tmp_path / 'cache'}",
             "--tasks", tasks, "--limit", "10", "--output_path", str(tmp_path / "ours")],
            capture_output=True, text=True, env=env, timeout=600)
        assert ours.returncode == 0, ours.stderr[-3000:]
        assert server.endpoints == {"completions": 30}  # one request per document, none to the chat endpoint
        theirs = subprocess.run(
            [str(bin_dir / "lm_eval"), "--model", "local-completions", "--model_args",
             f"model=bloomz-served,base_url={server.base_url}/completions,tokenizer_backend=None,"
             "tokenized_requests=False", "--include_path", str(REPO / "ecom_tasks"), "--tasks", tasks,
             "--limit", "10", "--output_path", str(tmp_path / "theirs")],
            capture_output=True, text=True, env=env, timeout=600)
        assert theirs.returncode == 0, theirs.stderr[-3000:]
    ours_scores, their_scores = results_of(tmp_path / "ours"), results_of(tmp_path / "theirs")
    assert set(ours_scores) == set(tasks.split(",")) and ours_scores == their_scores
    assert all(0 < v < 100 for task in ours_scores.values() for k, v in task.items() if k.startswith("rouge_l"))
    with pytest.raises(EcomGPTError, match="endpoint=chat"):
        from ecomgpt.openai_model import EcomOpenAI
        EcomOpenAI(model="m", base_url=server.base_url, endpoint="completions", system_prompt="be brief",
                   cache_dir=str(tmp_path / "c2"))
    with pytest.raises(EcomGPTError, match="endpoint=chats: use chat"):
        ChatRunner("m", server.base_url, endpoint="chats", cache_dir=tmp_path / "c3")
