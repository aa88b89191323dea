"""Fine-tuning recipes: `sft` is the shared training module; `bloomz_*.py` are thin per-scale files."""
