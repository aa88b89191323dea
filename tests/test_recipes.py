"""The fine-tuning recipes on CPU: label masking, the paper's settings, a real two-process run, over-fitting,
resume, LoRA export, and the checkpoint through lm-eval."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import SMALL, subset, weights

from recipes import bloomz_1b7, bloomz_3b, bloomz_7b1, bloomz_560m
from recipes.sft import (IGNORE_INDEX, CompletionCollator, apply_sharding, encode, main, parse, runtime_defaults,
                         supports_response_only_logits, tokenize_mixture, use_fused_gelu)

REPO = Path(__file__).resolve().parents[1]
def test_encode_masks_the_prompt_and_keeps_the_response_whole():
    assert encode([1, 2, 3], [7, 8], eos_id=0, max_length=10) == {
        "input_ids": [1, 2, 3, 7, 8, 0], "labels": [IGNORE_INDEX] * 3 + [7, 8, 0], "truncated": False}
    # Too long: the prompt loses its first tokens; the response and EOS stay.
    assert encode([1, 2, 3, 4, 5], [7, 8], eos_id=0, max_length=5) == {
        "input_ids": [4, 5, 7, 8, 0], "labels": [IGNORE_INDEX] * 2 + [7, 8, 0], "truncated": True}
    assert encode([1, 2], [7, 8, 9, 10], eos_id=0, max_length=5)["input_ids"] == [7, 8, 9, 10, 0]
    assert encode([1], [7, 8, 9, 10, 11], eos_id=0, max_length=5) is None


def tokenized_text(tokenizer, row) -> str:
    """The text of an encoded instance's unmasked labels, EOS left out."""
    return tokenizer.decode([t for t in row["labels"] if t != IGNORE_INDEX and t != tokenizer.eos_token_id])


def test_tokenised_mixture_counts_drops_and_truncations(rows, model_dir, tmp_path):
    from datasets import Dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    data = Dataset.from_list([{"id": "a", "prompt": "p " * 50, "response": "ok"},
                              {"id": "b", "prompt": "short", "response": "word " * 200},
                              {"id": "c", "prompt": "short", "response": "fine"}])
    tokenised, counts = tokenize_mixture(data, tokenizer, max_length=40)
    assert counts == {"instances": 3, "dropped_response_too_long": 1, "dropped_empty_response": 0,
                      "prompt_truncated": 1}
    assert tokenised["id"] == ["a", "c"]
    first = tokenised[0]
    # The target is the separator, the response and EOS: the evaluation prompt ends before the separator, so
    # the model must learn to write it.
    response = tokenizer("\nok", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert tokenizer.decode(response[:1]) == "\n"
    assert len(first["input_ids"]) == first["length"] == 40
    assert first["input_ids"][-len(response):] == response
    assert first["labels"] == [IGNORE_INDEX] * (40 - len(response)) + response
    prompt = tokenizer("short", add_special_tokens=False)["input_ids"]
    assert tokenised[1]["input_ids"][:len(prompt)] == prompt
    assert tokenised[1]["labels"][:len(prompt)] == [IGNORE_INDEX] * len(prompt)
    assert tokenized_text(tokenizer, tokenised[1]) == "\nfine"


def test_recipes_carry_the_paper_settings_and_their_sharding(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    for module, model, sharding in [(bloomz_560m, "bloomz-560m", "ddp"), (bloomz_1b7, "bloomz-1b7", "ddp"),
                                    (bloomz_3b, "bloomz-3b", "fsdp"), (bloomz_7b1, "bloomz-7b1", "fsdp")]:
        script, args = parse(module.RECIPE, ["--train_file", "x.jsonl"])
        assert script.model_name_or_path == f"bigscience/{model}" and script.sharding == sharding
        assert (args.learning_rate, args.weight_decay, args.num_train_epochs) == (2e-5, 0.0, 3)
        assert (args.per_device_train_batch_size, args.gradient_accumulation_steps) == (4, 8)
        assert args.lr_scheduler_type == "cosine" and args.warmup_steps == 0.03 and script.max_length == 1024
        assert args.train_sampling_strategy == "group_by_length" and args.ddp_backend is None
    script, args = parse(bloomz_7b1.RECIPE, ["--train_file", "x", "--learning_rate", "1e-5", "--max_steps", "3",
                                             "--output_dir", "elsewhere"])
    assert (args.learning_rate, args.max_steps, args.output_dir) == (1e-5, 3, "elsewhere")


def test_fsdp_on_gpus_gradient_checkpointing_under_deepspeed(monkeypatch):
    monkeypatch.delenv("ACCELERATE_USE_FSDP", raising=False)
    monkeypatch.delenv("ACCELERATE_USE_DEEPSPEED", raising=False)
    script, args = parse(bloomz_7b1.RECIPE, ["--train_file", "x"])
    apply_sharding(args, script)
    assert not args.fsdp  # no GPU here: no FSDP
    with monkeypatch.context() as gpu:
        gpu.setattr(torch.cuda, "is_available", lambda: True)
        apply_sharding(args, script)
    assert "full_shard" in str(args.fsdp) and args.fsdp_config["activation_checkpointing"] is True
    assert args.fsdp_config["transformer_layer_cls_to_wrap"] == ["BloomBlock"]
    script, args = parse(bloomz_7b1.RECIPE, ["--train_file", "x"])
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")  # what `--config_file zero3.yaml` sets
    apply_sharding(args, script)
    assert not args.fsdp and args.gradient_checkpointing
    monkeypatch.delenv("ACCELERATE_USE_DEEPSPEED")
    script, args = parse(bloomz_560m.RECIPE, ["--train_file", "x"])
    apply_sharding(args, script)
    assert not args.fsdp and not args.gradient_checkpointing


def test_fused_adamw_on_gpus_only(monkeypatch):
    assert runtime_defaults(bloomz_560m.RECIPE)["optim"] == "adamw_torch"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert runtime_defaults(bloomz_560m.RECIPE)["optim"] == "adamw_torch_fused"


def test_gloo_only_for_several_cpu_processes(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    defaults = runtime_defaults(bloomz_560m.RECIPE)
    assert defaults["ddp_backend"] == "gloo" and defaults["use_cpu"] is True
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert "ddp_backend" not in runtime_defaults(bloomz_560m.RECIPE)


@pytest.mark.slow
def test_two_processes_train_together(rows, model_dir, tmp_path):
    data = subset(rows, tmp_path / "sixteen.jsonl", 16)
    common = ["--model_name_or_path", str(model_dir), "--train_file", str(data), *SMALL, "--num_train_epochs", "1",
              "--learning_rate", "1e-3", "--seed", "3", "--train_sampling_strategy", "sequential",
              "--logging_steps", "3"]  # the 4th step is after the last regular logging step
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
         "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         str(REPO / "tests" / "recording_recipe.py"), *common, "--output_dir", str(tmp_path / "two")],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    two = tmp_path / "two"
    summary = json.loads((two / "training_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_step"] == 4  # 16 instances / (2 ranks x 2)
    # what ran, from the live accelerate state, in the summary and the log
    assert summary["distributed"] == {"sharding": "ddp", "processes": 2, "machines": 1, "backend": "gloo"}
    assert "trained with sharding ddp over 2 process(es) on 1 machine(s), backend gloo" in result.stdout
    ranks = [json.loads((two / f"rank{r}_final.json").read_text()) for r in (0, 1)]
    assert [r["distributed_type"] for r in ranks] == ["DistributedType.MULTI_CPU"] * 2
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"]  # gradients were synchronised
    seen = [[i for line in (two / f"batches_rank{r}.jsonl").read_text().splitlines() for i in json.loads(line)]
            for r in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 8
    assert not set(seen[0]) & set(seen[1])
    assert set(seen[0]) | set(seen[1]) == {r["id"] for r in rows[:16]}

    # One process with the same per-device batch takes twice the steps and ends elsewhere; one process with
    # twice the batch sees the same global batches and ends at the same weights.
    main(bloomz_560m.RECIPE, [*common, "--output_dir", str(tmp_path / "one")])
    one = json.loads((tmp_path / "one" / "training_summary.json").read_text())
    assert one["world_size"] == 1 and one["global_step"] == 8
    assert one["distributed"]["sharding"] == "none" and one["distributed"]["processes"] == 1
    double = [*common, "--output_dir", str(tmp_path / "double")]
    double[double.index("--per_device_train_batch_size") + 1] = "4"
    main(bloomz_560m.RECIPE, double)
    two_w, one_w, double_w = weights(two), weights(tmp_path / "one"), weights(tmp_path / "double")
    assert any(not torch.allclose(two_w[k], one_w[k], atol=1e-4) for k in one_w)
    assert all(torch.allclose(two_w[k], double_w[k], atol=1e-5) for k in double_w)
    # ... and reports the same training loss: the mean over both processes, not rank 0's share.
    double_summary = json.loads((tmp_path / "double" / "training_summary.json").read_text())
    assert summary["train_loss"] == pytest.approx(double_summary["train_loss"], abs=1e-4)


@pytest.mark.slow
def test_overfitting_a_handful_lowers_the_loss_and_the_checkpoint_runs_in_lm_eval(rows, model_dir, tmp_path):
    # four instances of the first source's tasks (which rows come first changes as sources are added)
    data = subset([r for r in rows if r["source"] == rows[0]["source"]], tmp_path / "four.jsonl", 4)
    out = main(bloomz_560m.RECIPE, ["--model_name_or_path", str(model_dir), "--train_file", str(data), *SMALL,
                                    "--max_steps", "40", "--learning_rate", "3e-3", "--output_dir", str(tmp_path / "fit")])
    losses = [entry["loss"] for entry in json.loads((out / "training_summary.json").read_text())["log_history"]
              if "loss" in entry]
    assert len(losses) == 40 and sum(losses[-4:]) / 4 < 0.6 * sum(losses[:4]) / 4

    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(out)
    assert type(model).__name__ == "BloomForCausalLM"
    assert AutoTokenizer.from_pretrained(out).eos_token == "</s>"

    from ecom_tasks import TASKS_DIR

    lm_eval = Path(sys.executable).parent / "lm_eval"
    result = subprocess.run([str(lm_eval), "--include_path", str(TASKS_DIR), "--tasks", "ecom_unseen", "--model", "hf",
                             "--model_args", f"pretrained={out},dtype=float32", "--device", "cpu", "--batch_size", "4",
                             "--limit", "2", "--gen_kwargs", "max_gen_toks=16", "--output_path", str(tmp_path / "eval")],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    [results_file] = list((tmp_path / "eval").rglob("results_*.json"))
    results = json.loads(results_file.read_text())
    assert len([t for t in results["results"] if t != "ecom_unseen"]) == 12
    assert all(results["n-samples"][t]["effective"] == 2 for t in results["n-samples"])


@pytest.mark.slow
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(rows, model_dir, tmp_path):
    data = subset(rows, tmp_path / "twelve.jsonl", 12)
    common = ["--model_name_or_path", str(model_dir), "--train_file", str(data), *SMALL, "--max_steps", "6",
              "--learning_rate", "1e-3", "--warmup_steps", "0.3"]
    common[common.index("--save_steps") + 1] = "3"
    main(bloomz_560m.RECIPE, [*common, "--output_dir", str(tmp_path / "whole")])
    assert (tmp_path / "whole" / "checkpoint-3").is_dir()
    main(bloomz_560m.RECIPE, [*common, "--output_dir", str(tmp_path / "resumed"),
                              "--resume_from_checkpoint", str(tmp_path / "whole" / "checkpoint-3")])
    whole, resumed = weights(tmp_path / "whole"), weights(tmp_path / "resumed")
    assert set(whole) == set(resumed)
    assert all(torch.allclose(whole[k], resumed[k], atol=1e-6) for k in whole)
    at_step_3 = weights(tmp_path / "whole" / "checkpoint-3")
    assert any(not torch.equal(at_step_3[k], whole[k]) for k in whole)


@pytest.mark.slow
def test_lora_exports_a_merged_model(rows, model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    data = subset(rows, tmp_path / "eight.jsonl", 8)
    out = main(bloomz_560m.RECIPE, ["--model_name_or_path", str(model_dir), "--train_file", str(data), *SMALL,
                                    "--max_steps", "4", "--learning_rate", "1e-2", "--use_lora", "--lora_r", "4",
                                    "--gradient_checkpointing",
                                    "--output_dir", str(tmp_path / "lora")])
    assert (out / "adapter" / "adapter_config.json").is_file()
    merged = AutoModelForCausalLM.from_pretrained(out).state_dict()
    base = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    assert not any("lora" in k for k in merged)
    changed = [k for k in base if not torch.equal(base[k], merged[k])]
    assert changed and all("query_key_value.weight" in k for k in changed)


@pytest.mark.slow
def test_train_file_may_be_the_build_folder(mixture, model_dir, tmp_path, capsys):
    out = main(bloomz_560m.RECIPE, ["--model_name_or_path", str(model_dir), "--train_file", str(mixture), *SMALL,
                                    "--max_steps", "1", "--output_dir", str(tmp_path / "folder")])
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["instances"] == len((mixture / "mixture.jsonl").read_text(encoding="utf-8").splitlines())
    with pytest.raises(SystemExit) as exit_info:
        main(bloomz_560m.RECIPE, ["--model_name_or_path", str(model_dir), "--train_file", str(tmp_path / "nope"),
                                  "--output_dir", str(tmp_path / "x")])
    assert exit_info.value.code == 2 and "no such file or folder" in capsys.readouterr().err


def test_the_collator_says_where_logits_are_needed(model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "right"
    pad = tokenizer.pad_token_id
    features = [{"id": "a", "length": 4, "input_ids": [1, 2, 5, 6], "attention_mask": [1, 1, 1, 1],
                 "labels": [IGNORE_INDEX, IGNORE_INDEX, 5, 6]},
                {"id": "b", "length": 3, "input_ids": [3, 7, 8], "attention_mask": [1, 1, 1],
                 "labels": [IGNORE_INDEX, 7, 8]}]
    full = CompletionCollator(tokenizer)(features)
    assert "logits_to_keep" not in full and full["labels"].tolist() == [[-100, -100, 5, 6], [-100, 7, 8, -100]]
    assert full["input_ids"].tolist() == [[1, 2, 5, 6], [3, 7, 8, pad]]
    part = CompletionCollator(tokenizer, response_only_logits=True)(features)
    # position t is kept when token t + 1 is a target: row a predicts 5 and 6 from positions 1 and 2
    assert part["logits_to_keep"].tolist() == [[False, True, True, False], [True, True, False, False]]
    assert part["shift_labels"].tolist() == [5, 6, 7, 8]
    assert torch.equal(part["labels"], full["labels"]) and torch.equal(part["input_ids"], full["input_ids"])
    # padded up to a multiple of 3: six positions, the two new ones neither attended to, targets nor kept
    six = CompletionCollator(tokenizer, response_only_logits=True, pad_to_multiple_of=3)(features)
    assert six["input_ids"].tolist() == [[1, 2, 5, 6, pad, pad], [3, 7, 8, pad, pad, pad]]
    assert six["attention_mask"].tolist() == [[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0]]
    assert six["labels"].tolist() == [[-100, -100, 5, 6, -100, -100], [-100, 7, 8, -100, -100, -100]]
    assert six["logits_to_keep"].tolist() == [[False, True, True, False, False, False],
                                              [True, True, False, False, False, False]]
    assert six["shift_labels"].tolist() == [5, 6, 7, 8]


def test_response_only_logits_and_fused_gelu_give_the_same_loss_and_gradients(rows, model_dir):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "right"
    tokenised, _ = tokenize_mixture(Dataset.from_list(rows[:6]), tokenizer, max_length=192)
    features = list(tokenised)
    full = CompletionCollator(tokenizer)(features)
    part = CompletionCollator(tokenizer, response_only_logits=True)(features)

    def loss_and_gradients(model, batch):
        model.zero_grad()
        output = model(**batch)
        output.loss.backward()
        return output, {n: p.grad.clone() for n, p in model.named_parameters()}

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    assert supports_response_only_logits(model)
    reference, reference_grads = loss_and_gradients(model, full)
    output, grads = loss_and_gradients(model, part)
    targets = int((full["labels"][:, 1:] != IGNORE_INDEX).sum())
    assert output.logits.shape == (targets, model.config.vocab_size)
    assert targets < full["input_ids"].numel() / 2  # the prompt positions get no logits
    assert output.loss.item() == pytest.approx(reference.loss.item(), rel=1e-6)
    assert all(torch.allclose(grads[n], reference_grads[n], atol=1e-6) for n in grads)

    assert use_fused_gelu(model) == model.config.n_layer
    assert use_fused_gelu(model) == 0  # already swapped
    fused, fused_grads = loss_and_gradients(model, part)
    assert fused.loss.item() == pytest.approx(reference.loss.item(), rel=1e-6)
    assert all(torch.allclose(fused_grads[n], reference_grads[n], atol=1e-5) for n in grads)

    padded = CompletionCollator(tokenizer, response_only_logits=True, pad_to_multiple_of=64)(features)
    assert padded["input_ids"].shape[1] % 64 == 0 and padded["input_ids"].shape[1] > full["input_ids"].shape[1]
    longer, longer_grads = loss_and_gradients(model, padded)  # the padding is neither attended to nor a target
    assert longer.loss.item() == pytest.approx(fused.loss.item(), rel=1e-6)
    assert all(torch.allclose(longer_grads[n], fused_grads[n], atol=1e-6) for n in grads)


@pytest.mark.slow
def test_training_is_the_same_with_and_without_the_speed_ups(rows, model_dir, tmp_path):
    data = subset(rows, tmp_path / "eight.jsonl", 8)
    common = ["--model_name_or_path", str(model_dir), "--train_file", str(data), *SMALL, "--max_steps", "3",
              "--learning_rate", "1e-3", "--gradient_accumulation_steps", "2"]
    fast = main(bloomz_560m.RECIPE, [*common, "--output_dir", str(tmp_path / "fast")])
    plain = main(bloomz_560m.RECIPE, [*common, "--output_dir", str(tmp_path / "plain"),
                                      "--response_only_logits", "False", "--fused_gelu", "False"])
    fast_w, plain_w = weights(fast), weights(plain)
    assert all(torch.allclose(fast_w[k], plain_w[k], atol=1e-5) for k in plain_w)
    loss = [json.loads((out / "training_summary.json").read_text())["train_loss"] for out in (fast, plain)]
    assert loss[0] == pytest.approx(loss[1], rel=1e-5)


def test_empty_responses_are_dropped_and_counted(model_dir):
    from datasets import Dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    data = Dataset.from_list([{"id": "a", "prompt": "p", "response": "ok"}, {"id": "b", "prompt": "p", "response": ""},
                              {"id": "c", "prompt": "p", "response": "  \n"}])
    tokenised, counts = tokenize_mixture(data, tokenizer, max_length=40)
    assert tokenised["id"] == ["a"]
    assert counts["dropped_empty_response"] == 2 and counts["dropped_response_too_long"] == 0


@pytest.mark.parametrize(("case", "message"), [
    ("no_response", "missing column(s) ['response']"),
    ("empty_file", "is empty"),
    ("missing_model", "no such folder, and the model hub has no such id or cannot be reached"),
    ("not_json", "not a mixture"),
    ("bad_dtype", "--model_dtype must be float32, bfloat16 or float16, got 'int8'"),
    ("bad_padding", "--pad_to_multiple_of must be a positive number of tokens, got 0"),
    ("nested_response", "column 'response' holds List values, not text"),
])
def test_bad_inputs_end_in_one_line_before_training(case, message, rows, model_dir, tmp_path, capsys):
    data = subset(rows, tmp_path / "ok.jsonl", 4)
    model, extra = str(model_dir), []
    if case == "no_response":
        data.write_text("".join(json.dumps({"prompt": r["prompt"]}) + "\n" for r in rows[:3]), encoding="utf-8")
    elif case == "empty_file":
        data.write_text("", encoding="utf-8")
    elif case == "missing_model":
        model = str(tmp_path / "no-such-model")
    elif case == "bad_dtype":
        extra = ["--model_dtype", "int8"]
    elif case == "bad_padding":
        extra = ["--pad_to_multiple_of", "0"]
    elif case == "nested_response":
        data.write_text("".join(json.dumps({"prompt": r["prompt"], "response": [r["response"]]}) + "\n"
                                for r in rows[:3]), encoding="utf-8")
    else:
        data.write_text("this is not json\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(bloomz_560m.RECIPE, ["--model_name_or_path", model, "--train_file", str(data), *SMALL,
                                  "--max_steps", "1", "--output_dir", str(tmp_path / "out"), *extra])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in err
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_a_numeric_response_is_read_as_its_text(tmp_path):
    from recipes.sft import load_mixture

    data = tmp_path / "labels.jsonl"
    data.write_text('{"prompt": "Rate: great", "response": 5}\n{"prompt": "Rate: awful", "response": 1}\n',
                    encoding="utf-8")
    assert load_mixture(str(data))["response"] == ["5", "1"]


def test_abbreviated_flags_are_refused(rows, model_dir, tmp_path):
    data = subset(rows, tmp_path / "ok.jsonl", 4)
    with pytest.raises(SystemExit) as exit_info:
        parse(bloomz_560m.RECIPE, ["--train_file", str(data), "--max_step", "1", "--output_dir", str(tmp_path)])
    assert exit_info.value.code == 2


def test_another_model_gets_its_own_output_folder_and_short_runs_log_their_loss(tmp_path):
    script, args = parse(bloomz_560m.RECIPE, ["--model_name_or_path", "/models/my-bloom/", "--train_file", "x",
                                              "--max_steps", "6"])
    assert args.output_dir == "outputs/my-bloom-ecomgpt" and args.logging_steps == 1
    script, args = parse(bloomz_560m.RECIPE, ["--train_file", "x", "--max_steps", "100", "--logging_steps", "50"])
    assert args.output_dir == "outputs/bloomz-560m-ecomgpt" and args.logging_steps == 50
    script, args = parse(bloomz_560m.RECIPE, ["--model_name_or_path", "m", "--train_file", "x",
                                              "--output_dir", str(tmp_path)])
    assert args.output_dir == str(tmp_path)
