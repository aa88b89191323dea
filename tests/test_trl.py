"""TRL reads a mixture as it is: `SFTTrainer` trains on an `ecomgpt-data build` folder's `datasets` copy (TRL's
prompt-completion columns) with no code of ours, and the recipe reads the same folder."""

from __future__ import annotations

import json
import math

import pytest

from ecomgpt_data.config import MixtureConfig
from ecomgpt_data.mixture import build


@pytest.mark.slow
def test_sft_trainer_trains_two_steps_on_a_mixture(raw_fixture_dir, tiny_bloom, tmp_path):
    from datasets import load_dataset, load_from_disk
    from trl import SFTConfig, SFTTrainer

    out = tmp_path / "mix"
    build(MixtureConfig(raw_dir=str(raw_fixture_dir), per_task=4, sources=["wands_queries"]).validate(), out,
          progress=False)
    rows = [json.loads(line) for line in (out / "mixture.jsonl").read_text(encoding="utf-8").splitlines()]
    on_disk = load_from_disk(str(out / "dataset"))
    by_folder = load_dataset(str(out), split="train")  # the folder's card points `datasets` at dataset/
    for dataset in (on_disk, by_folder):
        assert {"prompt", "completion"} <= set(dataset.column_names) and "response" not in dataset.column_names
        assert dataset["prompt"] == [r["prompt"] for r in rows]
        assert dataset["completion"] == ["\n" + r["response"] for r in rows]

    trainer = SFTTrainer(model=str(tiny_bloom), train_dataset=on_disk, args=SFTConfig(
        output_dir=str(tmp_path / "trl"), max_steps=2, per_device_train_batch_size=2, logging_steps=1,
        save_strategy="no", report_to=[], use_cpu=True, max_length=256))
    result = trainer.train()
    assert result.global_step == 2 and math.isfinite(result.training_loss) and result.training_loss > 0
    # TRL's default for prompt-completion data is the loss on the completion only, as the recipe takes it.
    assert trainer.args.completion_only_loss in (None, True)


def test_the_recipe_reads_the_trl_columns_back_as_the_response(raw_fixture_dir, tmp_path):
    from recipes.sft import load_mixture

    out = tmp_path / "mix"
    build(MixtureConfig(raw_dir=str(raw_fixture_dir), per_task=4, sources=["wands_queries"]).validate(), out,
          progress=False)
    rows = [json.loads(line) for line in (out / "mixture.jsonl").read_text(encoding="utf-8").splitlines()]
    dataset = load_mixture(str(out))
    assert dataset["response"] == [r["response"] for r in rows] and dataset["id"] == [r["id"] for r in rows]
    assert not list((out / "dataset").glob("cache-*"))  # nothing written into the user's mixture folder
