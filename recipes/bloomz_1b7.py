"""BLOOMZ-1b7 on an EcomInstruct mixture: `accelerate launch recipes/bloomz_1b7.py --train_file MIXTURE`
(with `--config_file recipes/accelerate_configs/ddp.yaml`; see recipes/README.md)."""

from recipes.sft import Recipe, main

RECIPE = Recipe(
    model_name_or_path="bigscience/bloomz-1b7",
    output_dir="outputs/bloomz-1b7-ecomgpt",
    per_device_train_batch_size=4,
    gradient_accumulation_steps=8,
    sharding="ddp",
)

if __name__ == "__main__":
    main(RECIPE)
