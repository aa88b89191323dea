"""A deterministic, data-parallel lm-eval model for the tests (`--model ecom-echo`): it answers two prompts in
three with the gold target and the rest with `None`, so every task scores between 0 and 100, and it takes its
rank and world size from accelerate as lm-eval's `hf` model does on GPUs. Each rank appends the number of
prompts it answered to $ECHO_LOG.

    [accelerate launch …] tests/echo_lm.py lm_eval|ecomgpt-eval ARGS…

runs lm-eval's own command line (or ecomgpt-eval's) with the model registered.
"""

from __future__ import annotations

import hashlib
import os
import sys

import torch
from accelerate import Accelerator
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from ecom_tasks._generate_configs import TASK_NAMES
from ecom_tasks.utils import build_docs


def answer(prompt: str, target: str) -> str:
    """$ECHO_SALT (default none) picks another deterministic third of the prompts to answer wrongly."""
    return target if int(hashlib.sha256((os.environ.get("ECHO_SALT", "") + prompt).encode("utf-8")).hexdigest(),
                         16) % 3 else "None"


@register_model("ecom-echo")
class EchoLM(LM):
    def __init__(self, **_lm_eval_extras):
        super().__init__()
        self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
        self._rank, self._world_size = self.accelerator.process_index, self.accelerator.num_processes
        self.targets = {doc["prompt"]: doc["target"] for folder in TASK_NAMES for doc in build_docs(folder)}

    def generate_until(self, requests, disable_tqdm: bool = False):
        answers = [answer(r.args[0], self.targets[r.args[0]]) for r in requests]
        if os.environ.get("ECHO_LOG"):
            with open(os.environ["ECHO_LOG"], "a", encoding="utf-8") as log:
                log.write(f"{self._rank} {len(answers)}\n")
        return answers

    def all_gather(self, tensor):
        return tensor if self._world_size <= 1 else self.accelerator.gather(tensor)

    def gather_object(self, obj, dst=0):
        if self._world_size <= 1:
            return [obj]
        gathered = [None] * self._world_size if self._rank == dst else None
        torch.distributed.gather_object(obj, gathered, dst=dst)
        return gathered

    def barrier(self) -> None:
        if self._world_size > 1:
            self.accelerator.wait_for_everyone()

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError


if __name__ == "__main__":
    entry = sys.argv.pop(1)
    if entry == "lm_eval":
        from lm_eval.__main__ import cli_evaluate

        cli_evaluate()
    else:
        from ecomgpt.cli import eval_main

        sys.exit(eval_main())
