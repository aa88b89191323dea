"""Test instrumentation, kept out of the recipes: `recipes/bloomz_560m.py` as `accelerate launch` runs it, with
each rank writing the ids of every batch it trained on (`batches_rank<R>.jsonl`) and a digest of its final
weights (`rank<R>_final.json`) into the output folder, so a test can check that ranks train together; at exit an
atexit handler writes `rank<R>_atexit.txt`, so a test can check that the recipe's own end still runs them."""

from __future__ import annotations

import atexit
import hashlib
import json
import sys
from pathlib import Path

from transformers import TrainerCallback

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes import bloomz_560m, sft  # noqa: E402

WHERE: dict = {}  # output folder and rank, known once the Trainer exists


class RecordingCollator(sft.CompletionCollator):
    def __call__(self, features):
        ids = [f["id"] for f in features]
        with (WHERE["out"] / f"batches_rank{WHERE['rank']}.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(ids) + "\n")
        return super().__call__(features)


class RankRecorder(TrainerCallback):
    def on_init_end(self, args, state, control, **kwargs):
        WHERE.update(out=Path(args.output_dir), rank=args.process_index)
        WHERE["out"].mkdir(parents=True, exist_ok=True)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        from accelerate import PartialState

        digest = hashlib.sha256()
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        (WHERE["out"] / f"rank{args.process_index}_final.json").write_text(json.dumps(
            {"rank": args.process_index, "world_size": args.world_size, "weights_sha256": digest.hexdigest(),
             "distributed_type": str(PartialState().distributed_type),
             # ZeRO-3 partitions every parameter: `ds_tensor` is this rank's part, `ds_numel` the whole
             "local_parameters": sum(getattr(p, "ds_tensor", p).numel() for p in model.parameters()),
             "total_parameters": sum(getattr(p, "ds_numel", p.numel()) for p in model.parameters())}) + "\n",
            encoding="utf-8")
        atexit.register((WHERE["out"] / f"rank{args.process_index}_atexit.txt").write_text, "ran\n")


if __name__ == "__main__":
    sft.CompletionCollator = RecordingCollator  # the recipe builds its collator from this name
    sft.main(bloomz_560m.RECIPE, callbacks=[RankRecorder()])
