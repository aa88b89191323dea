"""ecom_tasks: the EcomGPT held-out evaluation suite as an lm-evaluation-harness task folder.

Use it with `lm_eval --include_path <this folder> --tasks ecom_unseen ...` or `ecomgpt-eval --tasks ...`.
"""

from pathlib import Path

TASKS_DIR = Path(__file__).parent
