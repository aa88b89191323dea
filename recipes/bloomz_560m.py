"""BLOOMZ-560m on an EcomInstruct mixture: `accelerate launch recipes/bloomz_560m.py --train_file MIXTURE`
(with `--config_file recipes/accelerate_configs/ddp.yaml`; see recipes/README.md)."""

from recipes.sft import Recipe, main

RECIPE = Recipe(
    model_name_or_path="bigscience/bloomz-560m",
    output_dir="outputs/bloomz-560m-ecomgpt",
    per_device_train_batch_size=4,
    gradient_accumulation_steps=8,
    sharding="ddp",
)

if __name__ == "__main__":
    main(RECIPE)
