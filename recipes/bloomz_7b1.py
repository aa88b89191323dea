"""BLOOMZ-7b1 on an EcomInstruct mixture: `accelerate launch recipes/bloomz_7b1.py --train_file MIXTURE`
(with `--config_file recipes/accelerate_configs/fsdp.yaml`; see recipes/README.md)."""

from recipes.sft import Recipe, main

RECIPE = Recipe(
    model_name_or_path="bigscience/bloomz-7b1",
    output_dir="outputs/bloomz-7b1-ecomgpt",
    per_device_train_batch_size=4,
    gradient_accumulation_steps=8,
    sharding="fsdp",
)

if __name__ == "__main__":
    main(RECIPE)
