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

from ecomgpt.openai_client import ChatRequest, ChatRunner, RateLimiter, RequestsFailed

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


def test_killed_run_resumes_without_paying_twice(env, tmp_path):
    with FakeOpenAI(faults=(None,)) as server:
        server.pause_after = 10
        process = subprocess.Popen(eval_command(server, tmp_path / "cache", tmp_path / "run"), env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        database = tmp_path / "cache" / "answers.sqlite"
        deadline = time.time() + 300
        while time.time() < deadline:
            if database.exists():
                with sqlite3.connect(database) as db:
                    if db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] >= 10:
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


def test_a_request_that_keeps_failing_is_reported_and_the_rest_kept(env, tmp_path):
    with FakeOpenAI(faults=(None,)) as server:
        runner = ChatRunner("fake-gpt", server.base_url, num_concurrent=2, max_retries=0, timeout=2,
                            cache_dir=tmp_path)
        server.faults = ("500", None)  # by hash: some requests fail on their first attempt, with no retry left
        requests = [ChatRequest([{"role": "user", "content": f"q{i}"}], 5, ["###"], "t") for i in range(8)]
        with pytest.raises(RequestsFailed, match=r"of 8 requests to fake-gpt failed after 0 retries .* run the same "
                                                 r"command again to resume"):
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
    with pytest.raises(ValueError, match="set OPENAI_API_KEY"):
        ChatRunner("gpt-4o-mini")
