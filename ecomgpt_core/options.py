"""Command-line options that several commands share, each declared once: the per-task size (`--per-task`, at
least 1 everywhere), the seed, and the OpenAI-compatible runner's options (`ecomgpt-data pseudo-label` and
`ecomgpt-compare judge` pass them to `ChatRunner` alike)."""

from __future__ import annotations

import argparse

DEFAULT_SEED = 42  # the data commands' seed (mixture, held-out training data, pseudo-labels)


def at_least_one(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_per_task(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    parser.add_argument("--per-task", dest="per_task", type=at_least_one, default=default, metavar="N",
                        help=f"{what} (default {default})")


def add_seed(parser: argparse.ArgumentParser, default: int = DEFAULT_SEED, what: str = "the seed") -> None:
    parser.add_argument("--seed", type=int, default=default, metavar="S", help=f"{what} (default {default})")


RUNNER_OPTIONS = ("num_concurrent", "requests_per_minute", "tokens_per_minute", "max_retries", "timeout", "cache_dir",
                  "price_table")


def add_runner_options(parser: argparse.ArgumentParser) -> None:
    """The options of `ecomgpt_core.openai_client.ChatRunner`, as every command that calls a model offers them."""
    parser.add_argument("--num-concurrent", dest="num_concurrent", type=at_least_one, default=4,
                        help="requests in flight at once (default 4)")
    parser.add_argument("--requests-per-minute", dest="requests_per_minute", type=float, help="a rate limit")
    parser.add_argument("--tokens-per-minute", dest="tokens_per_minute", type=float, help="a rate limit")
    parser.add_argument("--max-retries", dest="max_retries", type=int, default=6,
                        help="retries of one request (default 6)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for one attempt (default 60)")
    parser.add_argument("--cache-dir", dest="cache_dir", help="answer cache (default: the per-user ecomgpt cache)")
    parser.add_argument("--price-table", dest="price_table",
                        help="JSON {model: [prompt, completion]} US$ per 1M tokens")


def runner_options(args: argparse.Namespace) -> dict:
    """The runner's keyword arguments from parsed options."""
    return {name: getattr(args, name) for name in RUNNER_OPTIONS}
