"""Training throughput on a GPU for BLOOM with the real 560m / 1b7 shapes (random weights, no hub): tokens per
second, peak memory and model-FLOPs utilisation (MFU), one training step = forward + backward + AdamW at
sequence 1024 x batch 4 with bf16 autocast over fp32 weights, as the recipes train.

    .venv/bin/python benchmarks/train_gpu.py [--shapes 560m 1b7] [--steps 20] [--checkpointing]

MFU = achieved model FLOPs / the card's peak dense bf16 FLOPs, with model FLOPs per token
6 * N + 12 * layers * hidden * sequence (PaLM's count: N = all parameters, since the tied embedding is also the
output matmul; activation recomputation is not counted). Peak: H100 / H200 SXM 989 TFLOPS, A100 312 TFLOPS,
or `--peak-tflops`.
"""

from __future__ import annotations

import argparse
import time

import torch

SHAPES = {  # hidden, layers, heads (bigscience/bloomz-* configs)
    "560m": (1024, 24, 16),
    "1b7": (2048, 24, 16),
    "3b": (2560, 30, 32),
    "7b1": (4096, 30, 32),
}
VOCAB = 250880
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def peak_tflops(name: str, override: float | None) -> float:
    if override:
        return override
    for key, value in PEAK_TFLOPS.items():
        if key in name:
            return value
    raise SystemExit(f"unknown peak FLOPs for {name!r}: pass --peak-tflops")


def measure(shape: str, batch: int, seq: int, steps: int, warmup: int, checkpointing: bool) -> dict:
    from transformers import BloomConfig, BloomForCausalLM

    hidden, layers, heads = SHAPES[shape]
    torch.manual_seed(0)
    config = BloomConfig(vocab_size=VOCAB, hidden_size=hidden, n_layer=layers, n_head=heads)
    model = BloomForCausalLM(config).cuda()
    if checkpointing:
        model.gradient_checkpointing_enable()
    model.train()
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.0, fused=True)
    tokens = torch.randint(0, VOCAB, (batch, seq), device="cuda")
    torch.cuda.reset_peak_memory_stats()

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=tokens, labels=tokens).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens_per_second = batch * seq * steps / seconds
    flops_per_token = 6 * parameters + 12 * layers * hidden * seq
    result = {"shape": shape, "parameters": parameters, "tokens_per_second": tokens_per_second,
              "peak_memory_gb": torch.cuda.max_memory_allocated() / 1e9,
              "model_tflops": tokens_per_second * flops_per_token / 1e12}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", default=["560m", "1b7"], choices=sorted(SHAPES))
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--checkpointing", action="store_true")
    parser.add_argument("--peak-tflops", type=float)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here; this benchmark needs one (see recipes/README.md for the memory plan)")
    name = torch.cuda.get_device_name()
    peak = peak_tflops(name, args.peak_tflops)
    print(f"{name}, torch {torch.__version__}, batch {args.batch} x {args.seq}, bf16 autocast, fused AdamW, "
          f"checkpointing {'on' if args.checkpointing else 'off'}, peak {peak:.0f} TFLOPS")
    for shape in args.shapes:
        r = measure(shape, args.batch, args.seq, args.steps, args.warmup, args.checkpointing)
        torch.cuda.empty_cache()  # the model and optimizer of `measure` are gone by now
        print(f"  {shape:>5}: {r['parameters'] / 1e9:.2f} B params  {r['tokens_per_second']:10,.0f} tokens/s  "
              f"peak memory {r['peak_memory_gb']:6.1f} GB  MFU {r['model_tflops'] / peak:.1%}")


if __name__ == "__main__":
    main()
