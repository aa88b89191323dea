"""The `ecomgpt-openai` lm-eval model: OpenAI chat models (or any OpenAI-compatible server) on the same
prompts, normalisation and metrics as every `hf` model, through `ecomgpt_core.openai_client.ChatRunner`.
`endpoint=completions` sends the prompt as it is to `/v1/completions`, for base models without a chat template
(BLOOMZ and the recipes' checkpoints served by vLLM):

    ecomgpt-eval --model ecomgpt-openai --tasks ecom_unseen \
        --model_args model=outputs/bloomz-7b1-ecomgpt,base_url=http://localhost:8000/v1,endpoint=completions

    ecomgpt-eval --model ecomgpt-openai --model_args model=gpt-3.5-turbo,num_concurrent=8,requests_per_minute=500 \
        --tasks ecom_unseen --output_path runs/chatgpt

Each request is the task prompt as the user message (after an optional `system_prompt`), temperature 0,
`max_tokens` = the task's `max_gen_toks`, stop = the task's `until` (the first four). Usage per task and the
estimated cost go to `usage_<model>.json` in the run's `--output_path` (through `ecomgpt-eval`), or to
`usage_path` / the cache folder. Importing this module registers the model (`ecomgpt-eval` does it).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import lm_eval.models  # noqa: F401 - lm-eval loads its built-in models only while its registry is empty
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.openai_client import ChatRequest, ChatRunner, cache_root

USAGE_DIR_VAR = "ECOMGPT_USAGE_DIR"  # set by ecomgpt-eval to the run's --output_path
DEFAULT_MAX_TOKENS = 256


@register_model("ecomgpt-openai")
class EcomOpenAI(LM):
    def __init__(self, model: str = "gpt-3.5-turbo", base_url: str | None = None, system_prompt: str | None = None,
                 num_concurrent: int = 4, requests_per_minute: float | None = None,
                 tokens_per_minute: float | None = None, max_retries: int = 6, timeout: float = 60.0,
                 cache_dir: str | None = None, price_table: str | None = None, usage_path: str | None = None,
                 retry_filtered: bool = False, endpoint: str = "chat",
                 **_lm_eval_extras):  # batch_size, device, ... that lm-eval passes to every model
        super().__init__()
        self.model_name, self.system_prompt = str(model), system_prompt
        if system_prompt and endpoint == "completions":
            raise EcomGPTError("system_prompt needs endpoint=chat: the completions endpoint takes the prompt alone")
        self.runner = ChatRunner(self.model_name, base_url, num_concurrent, requests_per_minute, tokens_per_minute,
                                 max_retries, timeout, cache_dir, price_table, retry_filtered=retry_filtered,
                                 endpoint=str(endpoint))
        usage_dir = os.environ.get(USAGE_DIR_VAR)
        default = Path(usage_dir) if usage_dir else Path(cache_dir or cache_root())
        self.usage_path = Path(usage_path) if usage_path else default / f"usage_{re.sub(r'[^A-Za-z0-9._-]', '_', self.model_name)}.json"

    def messages(self, prompt: str) -> list[dict]:
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return system + [{"role": "user", "content": prompt}]

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        chats = []
        for instance in requests:
            prompt, gen_kwargs = instance.args
            until = gen_kwargs.get("until") or []
            chats.append(ChatRequest(self.messages(prompt), int(gen_kwargs.get("max_gen_toks", DEFAULT_MAX_TOKENS)),
                                     [until] if isinstance(until, str) else list(until), instance.task_name or "",
                                     instance.doc_id))
        try:
            answers = self.runner.run(chats, desc="generate_until")
        finally:
            self.runner.write_usage(self.usage_path)
            summary = self.runner.outcome_summary()
            if summary:
                print(f"ecomgpt-openai: {summary}", file=sys.stderr, flush=True)
        for instance, answer in zip(requests, answers, strict=True):
            self.cache_hook.add_partial("generate_until", instance.args, answer)
        return answers

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("ecomgpt-openai generates text: generation tasks only (the ecom_* tasks are)")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("ecomgpt-openai generates text: generation tasks only (the ecom_* tasks are)")
