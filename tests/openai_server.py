"""A loopback OpenAI-compatible server for the tests: chat completions with fault injection, and plain
completions (`/v1/completions`, single prompts or batches) without.

The first attempt of a request may be answered with 429 + Retry-After, 500, a dropped connection, a hang
past the client's timeout, or a slow answer, chosen from a hash of the request; later attempts succeed. It
counts, per distinct request, the attempts and the successful answers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("429", "500", "drop", "hang", "slow", None, None, None)


class FakeOpenAI:
    def __init__(self, faults=FAULTS, hang_seconds: float = 2.5, answer=None, respond=None):
        self.faults, self.hang_seconds = faults, hang_seconds
        self.respond = respond  # respond(handler, body) -> True when it answered the request itself
        self.answer = answer or (lambda messages: "None")
        self.attempts: Counter = Counter()
        self.successes: Counter = Counter()
        self.fault_log: Counter = Counter()
        self.api_keys: set[str] = set()
        self.endpoints: Counter = Counter()  # requests per endpoint (chat / completions); completions never fault
        self.pause_after: int | None = None  # answer 503 + Retry-After once this many requests succeeded
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.api_keys.add(self.headers.get("Authorization", ""))
                if server.respond is not None:
                    with server.lock:
                        server.attempts["custom"] += 1
                    if server.respond(self, body):
                        return
                completions = not self.path.rstrip("/").endswith("/chat/completions")
                if completions:  # /v1/completions: one prompt, or a batch of them (lm-eval's local-completions)
                    server.endpoints["completions"] += 1
                    prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                    texts = [server.answer([{"role": "user", "content": prompt}]) for prompt in prompts]
                    return self._json(200, {"id": "cmpl-test", "object": "text_completion", "created": 0,
                                            "model": body["model"],
                                            "choices": [{"index": i, "text": text, "finish_reason": "stop"}
                                                        for i, text in enumerate(texts)],
                                            "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}})
                server.endpoints["chat"] += 1
                key = hashlib.sha256(json.dumps({k: body.get(k) for k in ("model", "messages", "max_tokens", "stop")},
                                                sort_keys=True).encode()).hexdigest()
                with server.lock:
                    server.attempts[key] += 1
                    first = server.attempts[key] == 1
                    paused = server.pause_after is not None and sum(server.successes.values()) >= server.pause_after
                fault = server.faults[int(key, 16) % len(server.faults)] if first else None
                if paused:
                    return self._json(503, {"error": {"message": "paused"}}, {"Retry-After": "1"})
                if fault:
                    with server.lock:
                        server.fault_log[fault] += 1
                if fault == "429":
                    return self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                                      {"Retry-After": "1"})
                if fault == "500":
                    return self._json(500, {"error": {"message": "server error"}})
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "hang":
                    time.sleep(server.hang_seconds)
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "slow":
                    time.sleep(0.5)
                content = server.answer(body["messages"])
                with server.lock:
                    server.successes[key] += 1
                prompt_tokens = sum(len(m["content"]) for m in body["messages"]) // 4 + 1
                self._json(200, {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": content}}],
                                 "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 3,
                                           "total_tokens": prompt_tokens + 3}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
