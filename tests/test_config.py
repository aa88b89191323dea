"""The mixture options are declared once (`MixtureConfig`): the table in docs/data.md and `configs/mixture.yaml` match
it, YAML values are checked by type, and a command-line option overrides the YAML in both directions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ecomgpt_data.cli import BUILD_ARGS_NOT_CONFIG, build_parser
from ecomgpt_data.config import MixtureConfig, load_config, options_table
from ecomgpt_data.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def cli_options(*argv: str) -> dict:
    args = build_parser().parse_args(["build", "--out", "x", *argv])
    return {k: v for k, v in vars(args).items() if k not in BUILD_ARGS_NOT_CONFIG}


def test_readme_option_table_is_the_generated_one():
    readme = (REPO / "docs" / "data.md").read_text(encoding="utf-8")
    block = readme.split("<!-- build-options:", 1)[1].split("\n", 1)[1].split("<!-- /build-options -->", 1)[0]
    assert block.strip() == options_table()


def test_example_yaml_lists_every_yaml_option_with_its_default():
    values = yaml.safe_load((REPO / "configs" / "mixture.yaml").read_text(encoding="utf-8"))
    defaults = MixtureConfig().to_dict()
    assert set(values) == set(defaults) - {"raw_dir", "eval_dir", "unsafe_no_guard"}
    assert values == {k: defaults[k] for k in values}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("no_golden_cot", "false", "no_golden_cot must be a bool, got 'false'"),
    ("per_task", 42.0, "per_task must be an int, got 42.0"),
    ("per_task", True, "per_task must be an int, got True"),
    ("seed", "42", "seed must be an int"),
    ("sources", "wands_queries", "sources must be a list"),
    ("sources", [1], "sources item must be a str"),
    ("prompt_lang", "fr", "prompt_lang must be one of en, zh, mixed"),
    ("drop_paradigms", ["XYZ"], "drop_paradigms must be one of CLS, EXT, GEN, NER"),
])
def test_yaml_values_are_checked_by_type_naming_the_key(tmp_path, key, value, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({key: value}), encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        load_config(path, {})
    assert str(path) in str(error.value)


def test_ints_are_floats_but_not_the_other_way(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("quality_threshold: 1\nnum_tasks: null\n", encoding="utf-8")
    config = load_config(path, {})
    assert config.quality_threshold == 1 and config.num_tasks is None


def test_command_line_overrides_yaml_in_both_directions(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("no_golden_cot: true\nper_task: 5\nsources: [wands_queries]\n", encoding="utf-8")
    assert load_config(path, cli_options()).no_golden_cot is True  # not given: the file's value
    assert load_config(path, cli_options("--golden-cot")).no_golden_cot is False
    path.write_text("no_golden_cot: false\n", encoding="utf-8")
    assert load_config(path, cli_options("--no-golden-cot")).no_golden_cot is True
    path.write_text("per_task: 5\nsources: [wands_queries]\n", encoding="utf-8")
    config = load_config(path, cli_options("--per-task", "7", "--source", "subjqa_products"))
    assert config.per_task == 7 and config.sources == ["subjqa_products"]
    assert load_config(path, cli_options()).sources == ["wands_queries"]


def test_every_cli_option_is_a_config_key():
    keys = set(MixtureConfig().to_dict())
    assert set(cli_options()) <= keys
    assert set(cli_options()) == keys - {"jsonl_sources", "source_modules"}
