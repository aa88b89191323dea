"""The mixture folder's one owner: what an `ecomgpt-data build` output holds and how it is written and read.

- `mixture.jsonl`: one instance a line, columns `COLUMNS` (the prompt and the response without the separator);
- `dataset/`: the same rows for `datasets` and TRL, in TRL's prompt-completion columns (`DATASET_COLUMNS`: the
  completion is the separator and the response, exactly what the recipes take the loss on);
- `README.md`: a dataset card whose `configs` let `datasets.load_dataset(OUT)` find `dataset/`;
- `manifest.json`: what the build wrote there (configuration, counts, guard report).

Every reader of a mixture goes through here: `ecomgpt-data stats`, the demo, the recipes, the benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_core.files import published_dir
from ecomgpt_data.errors import BuildError
from ecomgpt_data.instructions import RESPONSE_SEPARATOR
from ecomgpt_data.outputs import read_manifest

COLUMNS = ("id", "task", "source", "paradigm", "lang", "cot", "strategy", "prompt", "response")
JSONL = "mixture.jsonl"
DATASET_DIR = "dataset"


def is_mixture_folder(path: Path) -> bool:
    """Whether `path` holds an `ecomgpt-data build` output (its manifest names the mixture's columns)."""
    manifest = read_manifest(path)
    return manifest.get("columns") == list(COLUMNS) and "task_order" in manifest


DATASET_COLUMNS = (*COLUMNS[:-1], "completion")
DATASET_CARD = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: dataset/*.arrow
---
# An EcomGPT-style instruction mixture (written by `ecomgpt-data build`)

- `mixture.jsonl`: one instance a line, columns `id, task, source, paradigm, lang, cot, strategy, prompt, response`.
- `dataset/`: the same instances for `datasets` and TRL, with TRL's prompt-completion columns: `prompt`, and
  `completion` = "\\n" + `response` (the separator the recipes and the evaluation prompts use).
  `datasets.load_from_disk("OUT/dataset")` or `datasets.load_dataset("OUT", split="train")`.
- `manifest.json`: the configuration, the per-source and per-task counts, the held-out guard's report.
"""


def dataset_row(row: dict) -> dict:
    """A mixture row in the `datasets` folder's columns (TRL's prompt-completion format)."""
    return {**{key: row[key] for key in COLUMNS[:-1]}, "completion": RESPONSE_SEPARATOR + row["response"]}


def write_mixture(rows: list[dict], manifest: dict, out: Path, overwrite: bool = False) -> Path:
    """Write mixture.jsonl, the `datasets` folder, its card and manifest.json into a staging folder beside `out`, then
    move it into place, so `out` is at every instant the old complete output, the new one, or absent."""
    import datasets
    from datasets import Dataset, Features, Value

    out = Path(out)
    if out.exists() and not (overwrite and is_mixture_folder(out)):
        raise BuildError(f"{out} exists; pass --overwrite to replace it" if not overwrite else
                         f"--overwrite replaces only a folder written by `ecomgpt-data build`; {out} is not one")
    with published_dir(out, replace=overwrite) as staging:
        with (staging / "mixture.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(json.dumps({key: row[key] for key in COLUMNS}, ensure_ascii=False) + "\n")
        # The `datasets` folder speaks TRL's prompt-completion format, so that `SFTTrainer` trains on it as it is
        # (`load_from_disk(OUT/dataset)` or `load_dataset(OUT)`): the completion is what the recipe trains on,
        # the separator and the response (mixture.jsonl keeps `response`, without the separator).
        # Built from columns without `features`: every column is text, which Arrow infers as `string` (the
        # features a `Value("string")` gives; checked below) without encoding each value in Python (2.4x as long).
        table = [dataset_row(row) for row in rows]
        dataset = Dataset.from_dict({key: [row[key] for row in table] for key in DATASET_COLUMNS})
        if dataset.features != Features({key: Value("string") for key in DATASET_COLUMNS}):
            raise RuntimeError(f"the mixture's dataset columns are {dataset.features}, not text")
        was_disabled = datasets.are_progress_bars_disabled()
        datasets.disable_progress_bars()  # a bar for a sub-second save is noise (and in a log, three lines)
        try:
            dataset.save_to_disk(str(staging / "dataset"))
        finally:
            if not was_disabled:
                datasets.enable_progress_bars()
        (staging / "README.md").write_text(DATASET_CARD, encoding="utf-8")
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
    return out




def jsonl_file(path: Path) -> Path:
    """`path`'s mixture.jsonl (a build folder, or the file itself)."""
    path = Path(path)
    return path / JSONL if path.is_dir() else path


def dataset_dir(path: Path) -> Path | None:
    """The `datasets` folder of a build folder, else None."""
    folder = Path(path) / DATASET_DIR
    return folder if Path(path).is_dir() and folder.is_dir() else None


def response_of(completion: str) -> str:
    """The response a `datasets` row's completion holds (TRL's column back into the mixture's)."""
    return completion.removeprefix(RESPONSE_SEPARATOR)


def read_rows(path: Path) -> list[dict]:
    """Every row of a mixture (a build folder or its mixture.jsonl), or a BuildError naming the file and line."""
    file = jsonl_file(path)
    if not file.is_file():
        raise BuildError(f"{file}: no such file; pass a folder written by `ecomgpt-data build` or its {JSONL}")
    rows = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise BuildError(f"{file}:{number}: not JSON ({error.msg})") from None
    return rows
