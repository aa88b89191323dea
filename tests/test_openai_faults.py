"""Paid calls under bad answers and bad servers: answers that are not answers are kept with their finish reason,
counted and retried on request; a request ends within its deadline; a refused key stops the run at once;
permanent errors are reported once per kind; secrets never reach messages or files; a corrupt cache is named."""

from __future__ import annotations

import base64
import json
import time

import pytest
from openai_server import FakeOpenAI

from ecomgpt_core.openai_client import (
    AuthenticationFailed,
    ChatRequest,
    ChatRunner,
    RequestsFailed,
    redact,
)

SECRET = "sk-test-DO-NOT-LEAK-4f1c9a"


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def completion(handler, choices, status=200):
    handler._json(status, {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": choices,
                           "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}})
    return True


def requests(n: int, label="task_a") -> list[ChatRequest]:
    return [ChatRequest([{"role": "user", "content": f"question {i}"}], 8, [], label, i) for i in range(n)]


def test_answers_that_are_not_answers_are_kept_counted_and_retried_on_request(tmp_path):
    def respond(handler, body):
        text = body["messages"][0]["content"]
        if text.endswith(" 0"):
            return completion(handler, [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": None}}])
        if text.endswith(" 1"):
            return completion(handler, [{"index": 0, "finish_reason": "content_filter",
                                         "message": {"role": "assistant", "content": ""}}])
        if text.endswith(" 2"):
            return completion(handler, [])
        if text.endswith(" 3"):
            return completion(handler, [{"index": 0, "finish_reason": "length",
                                         "message": {"role": "assistant", "content": "cut"}}])
        return completion(handler, [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}])

    with FakeOpenAI(faults=(None,), respond=respond) as server:
        runner = ChatRunner("m", server.base_url, cache_dir=tmp_path)
        assert runner.run(requests(5)) == ["", "", "", "cut", "ok"]
        usage = runner.usage_report()
        assert usage["filtered"] == 3 and usage["truncated"] == 1 and usage["tasks"]["task_a"]["filtered"] == 3
        assert "3 answer(s) were filtered or refused" in runner.outcome_summary()
        reasons = [row[0] for row in runner.cache._db.execute("SELECT finish_reason FROM answers ORDER BY request")]
        assert sorted(reasons) == sorted(["no_content", "content_filter", "no_choices", "length", "stop"])
        calls = server.attempts["custom"]
        again = ChatRunner("m", server.base_url, cache_dir=tmp_path)
        assert again.run(requests(5)) == ["", "", "", "cut", "ok"] and server.attempts["custom"] == calls
        assert again.usage_report()["filtered"] == 3  # counted from the cache too
        retry = ChatRunner("m", server.base_url, cache_dir=tmp_path, retry_filtered=True)
        retry.run(requests(5))
        assert server.attempts["custom"] == calls + 3  # only the three non-answers were asked again


def test_a_trickling_server_cannot_hold_a_request_past_its_deadline(tmp_path):
    def respond(handler, body):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(60):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass
        return True

    with FakeOpenAI(faults=(None,), respond=respond) as server:
        runner = ChatRunner("m", server.base_url, cache_dir=tmp_path, timeout=1, max_retries=0)
        started = time.perf_counter()
        with pytest.raises(RequestsFailed, match=r"each after up to 0 retries within 1 s \(DeadlineExceeded"):
            runner.run(requests(1))
        assert time.perf_counter() - started < 5


def test_a_refused_key_stops_the_run_at_once_with_one_line(tmp_path):
    def respond(handler, body):
        time.sleep(0.05)
        handler._json(401, {"error": {"message": f"invalid key, you sent: Bearer {SECRET}"}})
        return True

    with FakeOpenAI(faults=(None,), respond=respond) as server:
        runner = ChatRunner("m", server.base_url, cache_dir=tmp_path, num_concurrent=2, requests_per_minute=30)
        with pytest.raises(AuthenticationFailed) as error:
            runner.run(requests(30))
        assert server.attempts["custom"] <= 3  # not 30
        message = str(error.value)
        assert "refused the key" in message and "not sent" in message and "\n" not in message
        assert SECRET not in message


def test_permanent_errors_are_reported_once_per_kind_with_the_first_request(tmp_path):
    def respond(handler, body):
        number = int(body["messages"][0]["content"].split()[-1])
        if number % 2:
            handler._json(400, {"error": {"message": "context length exceeded"}})
            return True
        return completion(handler, [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}])

    with FakeOpenAI(faults=(None,), respond=respond) as server:
        runner = ChatRunner("m", server.base_url, cache_dir=tmp_path, num_concurrent=1, max_retries=0)
        with pytest.raises(RequestsFailed) as error:
            runner.run(requests(6, label="ecom_lenovo_ner"))
    message = str(error.value)
    assert "3 of 6 requests" in message and message.count("BadRequestError (400) x3") == 1
    assert "first in task ecom_lenovo_ner doc 1" in message and "context length exceeded" in message


def test_secrets_are_redacted_from_errors_and_usage(tmp_path):
    assert redact(f"Authorization: Bearer {SECRET}") == "Authorization: Bearer ***"
    assert redact("https://alice:hunter2@proxy.example/v1") == "https://alice:***@proxy.example/v1"
    assert redact("nothing secret here") == "nothing secret here"
    assert redact("http://:hunter2@h/v1") == "http://:***@h/v1"  # a password without a user name
    assert redact("https://tok3n@h/v1 and https://alice:hunter2@h") == "https://***@h/v1 and https://alice:***@h"
    assert redact("Authorization: Basic YWxpY2U6aHVudGVyMg==") == "Authorization: Basic ***"

    def respond(handler, body):
        handler._json(400, {"error": {"message": f"bad request; headers were {dict(handler.headers)}"}})
        return True

    with FakeOpenAI(faults=(None,), respond=respond) as server:
        url = server.base_url.replace("http://", "http://alice:hunter2@")
        runner = ChatRunner("m", url, cache_dir=tmp_path, max_retries=0)
        with pytest.raises(RequestsFailed) as error:
            runner.run(requests(1))
        runner.write_usage(tmp_path / "usage.json")
    basic = base64.b64encode(b"alice:hunter2").decode()
    assert SECRET not in str(error.value) and "hunter2" not in str(error.value) and basic not in str(error.value)
    usage = (tmp_path / "usage.json").read_text()
    assert "hunter2" not in usage and "alice:***@" in usage


@pytest.mark.parametrize("userinfo", [":hunter2@", "alice:hunter2@", "hunter2@"])
def test_every_form_of_userinfo_stays_out_of_the_usage_file(tmp_path, userinfo):
    with FakeOpenAI(faults=(None,)) as server:
        runner = ChatRunner("m", server.base_url.replace("http://", "http://" + userinfo), cache_dir=tmp_path,
                            max_retries=0)
        runner.run(requests(1))
        runner.write_usage(tmp_path / "usage.json")
    assert "hunter2" not in (tmp_path / "usage.json").read_text()
    assert "hunter2" not in "".join(p.read_text(errors="replace") for p in tmp_path.iterdir() if p.suffix == ".json")


def test_lm_eval_outputs_are_rewritten_without_secrets(tmp_path):
    from ecomgpt.cli import _redact_outputs

    folder = tmp_path / "run" / "model"
    folder.mkdir(parents=True)
    results = folder / "results_1.json"
    results.write_text(json.dumps({"config": {"model_args": "model=m,base_url=https://u:pw123@h/v1"}}))
    samples = folder / "samples_t_1.jsonl"
    samples.write_text('{"resps": "fine"}\n')
    before = samples.stat().st_mtime_ns
    _redact_outputs(tmp_path / "run")
    assert "pw123" not in results.read_text() and "https://u:***@h/v1" in results.read_text()
    assert samples.stat().st_mtime_ns == before  # untouched when there is nothing to redact


def test_a_corrupt_cache_file_is_kept_aside_named_and_replaced(tmp_path, capsys):
    damaged = b"this is not a database" * 100
    (tmp_path / "answers.sqlite").write_bytes(damaged)
    runner = ChatRunner("m", "http://127.0.0.1:9/v1", cache_dir=tmp_path)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "answers.sqlite was not a usable answer cache" in err and "kept as" in err
    [aside] = tmp_path.glob("answers.sqlite.damaged-*")
    assert aside.read_bytes() == damaged and len(runner.cache) == 0  # nothing paid for is deleted
    ChatRunner("m", "http://127.0.0.1:9/v1", cache_dir=tmp_path)  # the new cache opens quietly
    assert capsys.readouterr().err == ""
