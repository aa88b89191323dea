"""The mixture configuration: a YAML file (`--config`) whose keys are the `build` options, overridden by
the command line. Unknown keys are an error naming the key and the file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from ecomgpt_data.atomic_tasks import PARADIGMS
from ecomgpt_data.errors import ConfigError
from ecomgpt_data.filters import DEFAULT_MAX_CHARS
from ecomgpt_data.instructions import PROMPT_LANGS


@dataclass
class MixtureConfig:
    raw_dir: str | None = None  # default: $ECOMGPT_RAW_DIR
    eval_dir: str | None = None  # the held-out sets for the guard; default: $ECOMGPT_EVAL_DIR, then the cache
    seed: int = 42
    per_task: int = 800
    num_tasks: int | None = None
    prompt_lang: str = "en"
    sources: list[str] = field(default_factory=list)  # only these sources (empty: every registered source)
    drop_sources: list[str] = field(default_factory=list)
    drop_paradigms: list[str] = field(default_factory=list)
    lang: str | None = None  # "en" or "zh": one data language only
    no_golden_cot: bool = False
    no_pseudo_cot: bool = False
    no_description: bool = False
    no_constraints: bool = False
    narrow_prompts: bool = False
    max_chars: int = DEFAULT_MAX_CHARS
    on_error: str = "raise"
    quality_model: str | None = None
    quality_label: str | None = None
    quality_threshold: float = 0.5
    unsafe_no_guard: bool = False
    jsonl_sources: list[dict] = field(default_factory=list)
    pseudo: list[str] = field(default_factory=list)  # folders written by `ecomgpt-data pseudo-label`
    source_modules: list[str] = field(default_factory=list)

    def validate(self) -> MixtureConfig:
        def fail(message):
            raise ConfigError(message)
        if self.per_task < 1:
            fail(f"per_task must be at least 1, got {self.per_task}")
        if self.num_tasks is not None and self.num_tasks < 1:
            fail(f"num_tasks must be at least 1, got {self.num_tasks}")
        if self.prompt_lang not in PROMPT_LANGS:
            fail(f"prompt_lang must be one of {PROMPT_LANGS}, got {self.prompt_lang!r}")
        if self.lang not in (None, "en", "zh"):
            fail(f"lang must be en or zh, got {self.lang!r}")
        bad = [p for p in self.drop_paradigms if p not in PARADIGMS]
        if bad:
            fail(f"drop_paradigms: {bad} are not paradigms ({', '.join(PARADIGMS)})")
        if self.on_error not in ("raise", "skip"):
            fail(f"on_error must be raise or skip, got {self.on_error!r}")
        if self.max_chars < 1:
            fail(f"max_chars must be positive, got {self.max_chars}")
        if self.quality_model and not self.quality_label:
            fail("quality_model needs quality_label (the label that means 'keep')")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def config_keys() -> list[str]:
    return [f.name for f in fields(MixtureConfig)]


def load_config(path: Path | None, overrides: dict) -> MixtureConfig:
    """The YAML file's values (if any) with `overrides` (non-None values) on top."""
    values: dict = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of options, got {type(loaded).__name__}")
        unknown = sorted(set(loaded) - set(config_keys()))
        if unknown:
            raise ConfigError(f"{path}: unknown option(s) {unknown}; known: {', '.join(config_keys())}")
        values.update(loaded)
    for key, value in overrides.items():
        if value is not None and value != [] and value is not False:
            values[key] = value
    try:
        config = MixtureConfig(**values)
    except TypeError as error:
        raise ConfigError(f"{path or 'options'}: {error}") from None
    return config.validate()
