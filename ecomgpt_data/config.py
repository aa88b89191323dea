"""The mixture configuration, declared once: the typed `MixtureConfig` is the YAML schema (`--config`), the
source of the `ecomgpt-data build` options (`add_build_options`) and of the README's option table
(`options_table`; a test keeps docs/data.md and `configs/mixture.yaml` equal to it).

YAML values are checked by type: `"false"` or `42.0` where a bool or an int is expected is an error naming the
key. A command-line option that is given overrides the YAML in both directions (`--golden-cot` turns back on
what a file's `no_golden_cot: true` turned off); an option that is not given leaves the file's value."""

from __future__ import annotations

import argparse
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from ecomgpt_core.options import DEFAULT_SEED
from ecomgpt_data.atomic_tasks import PARADIGMS
from ecomgpt_data.errors import ConfigError
from ecomgpt_data.filters import DEFAULT_MAX_CHARS
from ecomgpt_data.instructions import PROMPT_LANGS


def option(default, help: str, flag: str | None = None, off: str | None = None, metavar: str | None = None,
           choices: tuple | None = None, cli: bool = True):
    """A config field with its command-line form: `flag` (default `--<key-with-dashes>`), `off` (the flag that
    sets a bool back to False), `metavar`, `choices`; `cli=False` for YAML-only keys."""
    meta = {"help": help, "flag": flag, "off": off, "metavar": metavar, "choices": choices, "cli": cli}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class MixtureConfig:
    raw_dir: str | None = option(None, "raw data folder (default: $ECOMGPT_RAW_DIR, else the copy `ecomgpt-data fetch` "
                                 "puts in the cache)", metavar="DIR")
    eval_dir: str | None = option(None, "where the held-out sets are for the guard (default $ECOMGPT_EVAL_DIR, "
                                        "then the fetched copy)", metavar="DIR")
    seed: int = option(DEFAULT_SEED, "the seed of task order, sampling, paraphrase choice and recombination", metavar="S")
    per_task: int = option(800, "at most N instances per task; a smaller N gives a subset of a larger one",
                           metavar="N")
    num_tasks: int | None = option(None, "the first K tasks of one fixed seeded task order (so K tasks ⊂ K+1 "
                                         "tasks)", metavar="K")
    prompt_lang: str = option("en", "the language of the instruction text (English is the paper's best)",
                              choices=PROMPT_LANGS)
    sources: list[str] = option([], "only these sources (repeatable; none given: every registered source)",
                                flag="--source", metavar="NAME")
    drop_sources: list[str] = option([], "ablation: leave out everything derived from this source (repeatable)",
                                     flag="--drop-source", metavar="NAME")
    drop_paradigms: list[str] = option([], "ablation: leave a paradigm out (repeatable)", flag="--drop-paradigm",
                                       choices=PARADIGMS)
    lang: str | None = option(None, "ablation: one data language only", choices=("en", "zh"))
    no_golden_cot: bool = option(False, "ablation: leave out the atomic (golden chain-of-task) tasks",
                                 off="--golden-cot")
    no_pseudo_cot: bool = option(False, "ablation: leave out the pseudo-labelled tasks", off="--pseudo-cot")
    no_description: bool = option(False, "ablation: prompts without the task description", off="--description")
    no_constraints: bool = option(False, "ablation: prompts without output constraints", off="--constraints")
    narrow_prompts: bool = option(False, "ablation: one fixed prompt per paradigm instead of the task's "
                                         "paraphrases", off="--wide-prompts")
    max_chars: int = option(DEFAULT_MAX_CHARS, "drop instances longer than N characters (input + candidates + "
                                               "output)", metavar="N")
    on_error: str = option("raise", "a malformed raw record stops the build naming file:line (raise), or is "
                                    "skipped and counted (skip)", choices=("raise", "skip"))
    strict: bool = option(False, "a shipped source's file that differs from the snapshot its SOURCE.md names is an "
                                 "error, not a warning", off="--no-strict")
    quality_model: str | None = option(None, "a Hugging Face text-classification model for the quality filter "
                                             "(off by default)", metavar="M")
    quality_label: str | None = option(None, "the quality model's label that means 'keep'", metavar="L")
    quality_threshold: float = option(0.5, "the quality model's score needed to keep an instance", metavar="T")
    unsafe_no_guard: bool = option(False, "build without the held-out guard (never for real training data)",
                                   off="--guard")
    jsonl_sources: list[dict] = option([], "data without code: [{name, path, lang, description}] (YAML only)",
                                       cli=False)
    pseudo: list[str] = option([], "merge a `pseudo-label` folder's pseudo_cot tasks (repeatable)", metavar="DIR")
    source_modules: list[str] = option([], "your own source modules, e.g. [my_sources.my_reviews] (YAML only)",
                                       cli=False)

    def validate(self) -> MixtureConfig:
        def fail(message):
            raise ConfigError(message)
        for spec in fields(self):
            check_type(spec.name, getattr(self, spec.name), field_type(spec))
            choices = spec.metadata.get("choices")
            value = getattr(self, spec.name)
            for item in value if isinstance(value, list) else [value]:
                if choices and item is not None and item not in choices:
                    fail(f"{spec.name} must be one of {', '.join(choices)}; got {item!r}")
        if self.per_task < 1:
            fail(f"per_task must be at least 1, got {self.per_task}")
        if self.num_tasks is not None and self.num_tasks < 1:
            fail(f"num_tasks must be at least 1, got {self.num_tasks}")
        if self.max_chars < 1:
            fail(f"max_chars must be positive, got {self.max_chars}")
        if self.quality_model and not self.quality_label:
            fail("quality_model needs quality_label (the label that means 'keep')")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def field_type(spec) -> object:
    return typing.get_type_hints(MixtureConfig)[spec.name]


def check_type(key: str, value: object, expected: object) -> None:
    """A `ConfigError` naming `key` unless `value` is of `expected` (bool is not an int, a float is not an int,
    an int is a float)."""
    args = typing.get_args(expected)
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        expected = next(a for a in args if a is not type(None))
        args = typing.get_args(expected)
    origin = typing.get_origin(expected)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        for item in value:
            check_type(f"{key} item", item, args[0])
        return
    ok = {bool: isinstance(value, bool), int: isinstance(value, int) and not isinstance(value, bool),
          float: isinstance(value, (int, float)) and not isinstance(value, bool), str: isinstance(value, str),
          dict: isinstance(value, dict)}[expected]
    if not ok:
        raise ConfigError(f"{key} must be {'a ' + expected.__name__ if expected is not int else 'an int'}, "
                          f"got {value!r} ({type(value).__name__})")


def config_keys() -> list[str]:
    return [f.name for f in fields(MixtureConfig)]


def cli_fields() -> list:
    return [spec for spec in fields(MixtureConfig) if spec.metadata.get("cli", True)]


def flag_of(spec) -> str:
    return spec.metadata.get("flag") or "--" + spec.name.replace("_", "-")


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """One option per command-line field of `MixtureConfig`, each defaulting to None (= not given)."""
    for spec in cli_fields():
        expected, meta = field_type(spec), spec.metadata
        inner = [a for a in typing.get_args(expected) if a is not type(None)]
        base = inner[0] if typing.get_origin(expected) in (typing.Union, types.UnionType) else expected
        if base is bool:
            parser.add_argument(flag_of(spec), dest=spec.name, action="store_const", const=True, default=None,
                                help=meta["help"])
            parser.add_argument(meta["off"], dest=spec.name, action="store_const", const=False,
                                help=f"undo {flag_of(spec)} (e.g. one set in --config)")
        elif typing.get_origin(base) is list:
            parser.add_argument(flag_of(spec), dest=spec.name, action="append", default=None, metavar=meta["metavar"],
                                choices=meta["choices"], help=meta["help"])
        else:
            parser.add_argument(flag_of(spec), dest=spec.name, type=base, default=None, metavar=meta["metavar"],
                                choices=meta["choices"],
                                help=meta["help"] + (f" (default {spec.default})" if spec.default is not None else ""))


def options_table() -> str:
    """The README's table of build options, from the fields."""
    rows = ["| option | what it does | default |", "|---|---|---|"]
    for spec in cli_fields():
        meta = spec.metadata
        shown = flag_of(spec)
        if meta["choices"]:
            shown += " " + "\\|".join(meta["choices"])
        elif meta["metavar"]:
            shown += f" {meta['metavar']}"
        shown = f"`{shown}`" + (f" / `{meta['off']}`" if meta["off"] else "")
        default = spec.default_factory() if callable(spec.default_factory) else spec.default
        rows.append(f"| {shown} | {meta['help']} | `{default}` |")
    return "\n".join(rows)


def load_config(path: Path | None, overrides: dict) -> MixtureConfig:
    """The YAML file's values (if any) with the given command-line options (values that are not None) on top."""
    values: dict = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of options, got {type(loaded).__name__}")
        unknown = sorted(set(loaded) - set(config_keys()))
        if unknown:
            raise ConfigError(f"{path}: unknown option(s) {unknown}; known: {', '.join(config_keys())}")
        values.update(loaded)
    values.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return MixtureConfig(**values).validate()
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}" if path is not None else str(error)) from None
