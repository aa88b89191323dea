"""A dependable OpenAI chat client for paid, resumable runs: shared by the `ecomgpt-openai` lm-eval model and
`ecomgpt-data pseudo-label`.

- Retries: the official `openai` client's own (429, 5xx, timeouts and dropped connections, exponential
  back-off, honouring Retry-After / retry-after-ms), `max_retries` times per request.
- A persistent answer cache (SQLite, one committed row per finished answer) keyed by a hash of (base URL,
  model, messages, parameters): a run killed at any point and started again repeats no finished call, and a
  rerun costs nothing. The API key is never part of a key, a row, a log line or a usage file.
- Client-side limits on requests and tokens per minute, shared by `num_concurrent` worker threads.
- Usage accounting per task label: prompt / completion tokens billed in this run and served from the cache,
  with an estimated cost from a price table the user can override.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.files import write_atomic
from ecomgpt_core.locations import cache_root as ecomgpt_cache_root

# US$ per 1M tokens (prompt, completion) from OpenAI's public price list, November 2026; override with a JSON
# file {"model": [prompt, completion], ...} through `price_table`.
DEFAULT_PRICES = {
    "gpt-3.5-turbo": (0.50, 1.50),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}
API_KEY_VAR = "OPENAI_API_KEY"
ENDPOINTS = ("chat", "completions")  # /chat/completions, /completions


def cache_root() -> Path:
    return ecomgpt_cache_root() / "openai"


def request_key(base_url: str, model: str, messages: list[dict], params: dict) -> str:
    canonical = json.dumps({"base_url": base_url, "model": model, "messages": messages, "params": params},
                           sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SECRET_PATTERNS = (
    (re.compile(r"((?:Bearer|Basic)\s+)[^\s\"',]+", re.IGNORECASE), r"\1***"),  # an Authorization value
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), "sk-***"),
    (re.compile(r"(://[^/\s:@]*):[^@/\s]+@"), r"\1:***@"),  # a password inside a URL, with a user name or not
    (re.compile(r"(://)[^/\s:@]+@"), r"\1***@"),  # a user name alone (some services take a token there)
)


def redact(text: str) -> str:
    """`text` without the API key (from OPENAI_API_KEY), bearer tokens or passwords inside URLs: every message,
    file and log line that the project writes goes through this."""
    text = str(text)
    key = os.environ.get(API_KEY_VAR, "")
    if len(key) >= 6:
        text = text.replace(key, "***")
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# finish_reason values of answers that are not answers: scored as an empty prediction, counted and reported, and
# asked again with retry_filtered. `no_choices` / `no_content` are ours (an empty `choices`, a null `content`).
FILTERED = ("content_filter", "no_choices", "no_content")
TRUNCATED = "length"


class CacheError(EcomGPTError):
    """The answer cache file cannot be used."""


class AnswerCache:
    """SQLite rows (key -> answer, finish_reason, usage). Each answer is committed as soon as it arrives."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._open()
        except sqlite3.DatabaseError as error:
            # A damaged cache (a disk fault, a copy cut short) is kept aside, never deleted (its answers were paid
            # for), and a new one started, so that no later run fails on it; said in one line.
            aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                self._db.close()
                self.path.rename(aside)
                self._open()
            except (OSError, sqlite3.DatabaseError) as again:
                raise CacheError(f"{self.path}: not a usable answer cache ({error}), and it could not be moved "
                                 f"aside ({again}); move it yourself, or pass another cache_dir") from None
            print(f"warning: {self.path} was not a usable answer cache ({error}); kept as {aside.name}, and a new "
                  "cache started (its answers are requested again)", file=sys.stderr)

    def _open(self) -> None:
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, model TEXT, request TEXT, "
                         "answer TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, finish_reason TEXT)")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(answers)")}
        if "finish_reason" not in columns:  # a cache written before finish reasons were kept
            self._db.execute("ALTER TABLE answers ADD COLUMN finish_reason TEXT")

    def get(self, key: str) -> tuple[str, int, int, str] | None:
        with self._lock:
            row = self._db.execute("SELECT answer, prompt_tokens, completion_tokens, finish_reason FROM answers "
                                   "WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1], row[2], row[3] or "stop") if row else None

    def put(self, key: str, model: str, request: dict, answer: str, prompt_tokens: int, completion_tokens: int,
            finish_reason: str = "stop"):
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers (key, model, request, answer, prompt_tokens, "
                             "completion_tokens, finish_reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, model, json.dumps(request, ensure_ascii=False), answer, prompt_tokens,
                              completion_tokens, finish_reason))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self):
        with self._lock:
            self._db.close()


class RateLimiter:
    """Requests and tokens per minute over a sliding 60-second window, for all threads. Hand-written: the
    `openai` client only reacts to 429s after the fact, and no dependency here limits ahead of time."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.rpm, self.tpm = requests_per_minute, tokens_per_minute
        self.clock, self.sleep = clock, sleep
        self._events: list[tuple[float, int]] = []
        self._lock = threading.Lock()

    def acquire(self, tokens: int) -> None:
        if not self.rpm and not self.tpm:
            return
        while True:
            with self._lock:
                now = self.clock()
                self._events = [(t, n) for t, n in self._events if now - t < 60.0]
                used = sum(n for _, n in self._events)
                fits_requests = not self.rpm or len(self._events) < self.rpm
                fits_tokens = not self.tpm or used + tokens <= self.tpm or not self._events
                if fits_requests and fits_tokens:
                    self._events.append((now, tokens))
                    return
                wait = 60.0 - (now - self._events[0][0]) + 0.01
            self.sleep(wait)


def cost_text(cost: float | None) -> str:
    """A cost estimate for a dry run's message."""
    return f"US$ {cost:.4f}" if cost is not None else "unknown (no price for this model; see --price-table)"


def estimate_tokens(messages: list[dict], max_tokens: int) -> int:
    """A conservative count for the tokens-per-minute limit: one token per character (CJK text is about one
    per character; English is fewer) plus the completion allowance."""
    return sum(len(m["content"]) for m in messages) + max_tokens


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0
    cached: int = 0
    filtered: int = 0  # answers that are not answers (content filter, refusal, no choices), billed or cached
    truncated: int = 0  # answers cut at max_tokens (finish_reason "length")


@dataclass
class ChatRequest:
    messages: list[dict]
    max_tokens: int
    stop: list[str] = field(default_factory=list)
    label: str = ""  # the task it belongs to, for usage accounting
    doc_id: int | None = None  # the document it answers, for error reports


class AuthenticationFailed(EcomGPTError):
    """The server refused the key: nothing more is sent."""


class RequestsFailed(EcomGPTError):
    pass


class DeadlineExceeded(Exception):
    """A request did not finish within its deadline (the client's own timeout bounds each read, not the whole)."""


def run_with_deadline(work: Callable[[], object], seconds: float):
    """`work()`, or DeadlineExceeded after `seconds`. The request runs in a daemon thread that is abandoned at
    the deadline: neither httpx nor the openai client bounds a whole request (a server that sends one byte a
    second keeps every read alive), and a thread cannot be stopped from outside."""
    outcome: dict = {}
    done = threading.Event()

    def target():
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=target, daemon=True).start()
    if not done.wait(seconds):
        raise DeadlineExceeded(f"no complete answer within {seconds:.0f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class ChatRunner:
    def __init__(self, model: str, base_url: str | None = None, num_concurrent: int = 4,
                 requests_per_minute: float | None = None, tokens_per_minute: float | None = None,
                 max_retries: int = 6, timeout: float = 60.0, cache_dir: str | Path | None = None,
                 price_table: str | Path | None = None, temperature: float = 0.0, dry_run: bool = False,
                 retry_filtered: bool = False, endpoint: str = "chat"):
        import openai

        if endpoint not in ENDPOINTS:
            raise EcomGPTError(f"endpoint={endpoint}: use chat (chat models) or completions (base models without a "
                               "chat template, e.g. BLOOMZ on vLLM)")
        self.endpoint = endpoint

        api_key = os.environ.get(API_KEY_VAR)
        if not api_key:
            if base_url is None and not dry_run:
                raise EcomGPTError(f"set {API_KEY_VAR} (the only place the key is read from) to call OpenAI")
            api_key = "no-key"  # OpenAI-compatible servers such as vLLM accept any key
        self.model, self.base_url = model, base_url or "https://api.openai.com/v1"
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=int(max_retries),
                                    timeout=float(timeout))
        self.num_concurrent, self.temperature = max(1, int(num_concurrent)), float(temperature)
        self.retry_filtered = str(retry_filtered).lower() in ("1", "true", "yes")
        # the whole request, the client's own retries and back-off (at most 8 s each) included
        self.deadline = float(timeout) * (int(max_retries) + 1) + 8.0 * int(max_retries)
        self._stop = threading.Event()
        self.limiter = RateLimiter(requests_per_minute, tokens_per_minute)
        self.cache = AnswerCache(Path(cache_dir or cache_root()) / "answers.sqlite")
        self.prices = dict(DEFAULT_PRICES)
        if price_table:
            self.prices.update({k: tuple(v) for k, v in json.loads(Path(price_table).read_text("utf-8")).items()})
        self.usage: dict[str, Usage] = defaultdict(Usage)
        self._usage_lock = threading.Lock()

    def params(self, request: ChatRequest) -> dict:
        return {"temperature": self.temperature, "max_tokens": request.max_tokens, "stop": request.stop[:4] or None}

    def key(self, request: ChatRequest) -> str:
        params = self.params(request)
        if self.endpoint == "completions":  # another answer than the chat endpoint's to the same text
            params = {**params, "endpoint": "completions"}
        return request_key(self.base_url, self.model, request.messages, params)

    def _create(self, request: ChatRequest, params: dict) -> tuple[str | None, str | None, object]:
        """One call to the endpoint: (answer text, finish reason, usage); (None, "no_choices", usage) when the
        answer has no choices."""
        if self.endpoint == "completions":
            # the prompt as it is, no chat template: what a base model such as BLOOMZ was trained on
            response = self.client.completions.create(model=self.model, prompt=request.messages[-1]["content"],
                                                      **params)
            text_of = lambda choice: choice.text  # noqa: E731
        else:
            response = self.client.chat.completions.create(model=self.model, messages=request.messages, **params)
            text_of = lambda choice: choice.message.content if choice.message else None  # noqa: E731
        if not response.choices:
            return None, "no_choices", response.usage
        return text_of(response.choices[0]), response.choices[0].finish_reason, response.usage

    def _count_outcome(self, label: str, finish_reason: str) -> None:
        with self._usage_lock:
            u = self.usage[label]
            u.filtered += finish_reason in FILTERED
            u.truncated += finish_reason == TRUNCATED

    def _call(self, request: ChatRequest, key: str) -> str:
        if self._stop.is_set():
            raise AuthenticationFailed("not sent: the server refused the key")
        import openai

        params = self.params(request)
        self.limiter.acquire(estimate_tokens(request.messages, request.max_tokens))
        try:
            answer, finish_reason, usage = run_with_deadline(lambda: self._create(request, params), self.deadline)
        except (openai.AuthenticationError, openai.PermissionDeniedError):
            # Stop here, in the worker: were it left to the main thread's report of the failure, this worker
            # could take and send its next request first (4 were sent of 30 on a busy machine, not 2).
            self._stop.set()
            raise
        if finish_reason == "no_choices":
            answer = ""
        else:
            finish_reason = finish_reason or "stop"
            if answer is None:
                answer, finish_reason = "", finish_reason if finish_reason in FILTERED else "no_content"
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        self.cache.put(key, self.model, {"messages": request.messages, **params}, answer, prompt_tokens,
                       completion_tokens, finish_reason)
        with self._usage_lock:
            u = self.usage[request.label]
            u.prompt_tokens += prompt_tokens
            u.completion_tokens += completion_tokens
            u.calls += 1
        self._count_outcome(request.label, finish_reason)
        return answer

    def run(self, requests: Sequence[ChatRequest], desc: str = "requests") -> list[str]:
        """Answers in order; cached ones are not requested again, identical requests are sent once. When some
        still fail after their retries, the others are kept (cached) and RequestsFailed says so."""
        keys = [self.key(r) for r in requests]
        answers: dict[str, str] = {}
        todo: dict[str, ChatRequest] = {}
        for key, request in zip(keys, requests, strict=True):
            hit = self.cache.get(key)
            if hit is not None and not (self.retry_filtered and hit[3] in FILTERED):
                if key not in answers:
                    self._count_outcome(request.label, hit[3])
                answers[key] = hit[0]
                with self._usage_lock:
                    u = self.usage[request.label]
                    u.cached += 1
                    u.cached_prompt_tokens += hit[1]
                    u.cached_completion_tokens += hit[2]
            elif key not in answers:
                todo.setdefault(key, request)
        failures: dict[str, list] = {}  # kind -> [count, first request, first message]
        if todo:
            with ThreadPoolExecutor(self.num_concurrent) as pool, \
                    tqdm(total=len(todo), desc=f"{self.model} {desc}", unit="call") as bar:
                futures = {pool.submit(self._call, request, key): (key, request) for key, request in todo.items()}
                for future in as_completed(futures):
                    key, request = futures[future]
                    try:
                        answers[key] = future.result()
                    except Exception as error:  # noqa: BLE001 - every failure is reported below, none is lost
                        self._note_failure(failures, error, request)
                    bar.update(1)
        if failures:
            raise self._failure_report(failures, len(todo))
        return [answers[key] for key in keys]

    def _note_failure(self, failures: dict, error: Exception, request: ChatRequest) -> None:
        import openai

        if isinstance(error, (openai.AuthenticationError, openai.PermissionDeniedError)):
            self._stop.set()  # the key is refused: send nothing more
        if isinstance(error, AuthenticationFailed):
            kind = "not sent"
        elif isinstance(error, openai.APIStatusError):
            kind = f"{type(error).__name__} ({error.status_code})"
        else:
            kind = type(error).__name__
        entry = failures.setdefault(kind, [0, request, redact(error)[:300]])
        entry[0] += 1

    def _failure_report(self, failures: dict, sent: int) -> EcomGPTError:
        cached = f"The finished answers are cached in {self.cache.path}; run the same command again to resume " \
                 "without paying for them twice."
        auth = [k for k in failures if k.startswith(("AuthenticationError", "PermissionDeniedError"))]
        if auth:
            skipped = failures.get("not sent", [0])[0]
            return AuthenticationFailed(
                f"{redact(self.base_url)} refused the key ({auth[0]}: {failures[auth[0]][2]}); check {API_KEY_VAR}. "
                f"The run stopped at once: {skipped} request(s) were not sent. {cached}")
        kinds = "; ".join(f"{kind} x{count}, first in task {request.label or '-'} doc "
                          f"{'-' if request.doc_id is None else request.doc_id}: {message}"
                          for kind, (count, request, message) in failures.items())
        total = sum(count for count, _, _ in failures.values())
        # "up to": a request abandoned at its deadline (DeadlineExceeded) may have had no retry at all
        return RequestsFailed(f"{total} of {sent} requests to {self.model} failed, each after up to "
                              f"{self.client.max_retries} retries within {self.deadline:.0f} s ({kinds}). {cached}")

    def outcome_summary(self) -> str | None:
        """One line on answers that are not answers, or None when there were none."""
        filtered = {label or "-": u.filtered for label, u in sorted(self.usage.items()) if u.filtered}
        truncated = {label or "-": u.truncated for label, u in sorted(self.usage.items()) if u.truncated}
        if not filtered and not truncated:
            return None
        return (f"{sum(filtered.values())} answer(s) were filtered or refused (scored as empty predictions"
                f"{'; retried with retry_filtered=true' if self.retry_filtered else '; retry_filtered=true asks again'})"
                f"{' ' + str(filtered) if filtered else ''}, {sum(truncated.values())} were cut at max_tokens"
                f"{' ' + str(truncated) if truncated else ''}; per task in the usage file")

    def dry_run(self, requests: Sequence[ChatRequest]) -> dict:
        """Calls and an upper-bound cost estimate for what `run` would send (cache hits cost nothing)."""
        keys = {self.key(r): r for r in requests}
        missing = [r for k, r in keys.items() if self.cache.get(k) is None]
        prompt = sum(estimate_tokens(r.messages, 0) for r in missing)
        completion = sum(r.max_tokens for r in missing)
        return {"requests": len(requests), "distinct": len(keys), "calls": len(missing),
                "prompt_tokens_estimate": prompt, "completion_tokens_max": completion,
                "cost_usd_estimate": self.cost(prompt, completion)}

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        prices = self.prices.get(self.model)
        if prices is None:
            return None
        return (prompt_tokens * prices[0] + completion_tokens * prices[1]) / 1e6

    def usage_report(self) -> dict:
        tasks = {}
        for label, u in sorted(self.usage.items()):
            tasks[label or "-"] = {**u.__dict__, "cost_usd": self.cost(u.prompt_tokens, u.completion_tokens)}
        billed_prompt = sum(u.prompt_tokens for u in self.usage.values())
        billed_completion = sum(u.completion_tokens for u in self.usage.values())
        return {"model": self.model, "base_url": redact(self.base_url), "prices_usd_per_1m_tokens": self.prices.get(self.model),
                "calls": sum(u.calls for u in self.usage.values()),
                "cached": sum(u.cached for u in self.usage.values()),
                "prompt_tokens": billed_prompt, "completion_tokens": billed_completion,
                "cost_usd": self.cost(billed_prompt, billed_completion), "tasks": tasks,
                "filtered": sum(u.filtered for u in self.usage.values()),
                "truncated": sum(u.truncated for u in self.usage.values()),
                "note": "tokens and cost are what this run was billed; cached_* were served from the cache for free"}

    def write_usage(self, path: Path) -> Path:
        return write_atomic(path, json.dumps(self.usage_report(), indent=2) + "\n")
