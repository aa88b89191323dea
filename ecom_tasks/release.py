"""What the EcomGPT release ships: the 13 evaluation folders, their hashes, and the official lists.

`release_manifest.json` (beside this file) records, for each released folder, the SHA-256 and size of
`meta-info.json` and `test.json` at the pinned commit of Alibaba-NLP/EcomGPT. Everything here is derived
from the folder names (`<LANG>-<Dataset>-<TaskType>-<name>`), so the YAMLs only need to name the folder.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("release_manifest.json")

# The official held-out list leaves this released folder out; it is still registered as a task.
NOT_IN_OFFICIAL_LIST = "ZH-Multi_CPR-CLS-query_item_matching"

# The three unseen *tasks* of the paper's Table 4; the other official folders are unseen *datasets*.
RELEASE_SUFFIX = "_release"  # the release profile's task and group names: <default name> + this


class Profile(str, enum.Enum):
    """How a task is scored: `default` (this suite's metrics) or `release` (as the released script scores). One
    typed value from the command line to the tables; the task name carries it as RELEASE_SUFFIX and the task
    YAML's `metadata.profile` as its value, and `of_task` / `task` / `base` convert."""

    DEFAULT = "default"
    RELEASE = "release"

    def __str__(self) -> str:  # "release", in labels and messages, on every Python
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def suffix(self) -> str:
        return RELEASE_SUFFIX if self is Profile.RELEASE else ""

    def task(self, name: str) -> str:
        """The task (or group) name of `name` under this profile."""
        return name + self.suffix

    @staticmethod
    def of_task(name: str) -> Profile:
        return Profile.RELEASE if name.endswith(RELEASE_SUFFIX) else Profile.DEFAULT

    @staticmethod
    def base(name: str) -> str:
        """The default profile's name of a task or group name of either profile."""
        return name.removesuffix(RELEASE_SUFFIX)

UNSEEN_TASKS = (
    "ZH-OpenBG_Align-CLS-item_align",
    "EN-ABSA-CLS-review_topic_category",
    "ZH-Multi_CPR-Extract-product_select_2",
)

# Released task types -> the paradigm tags of the suite.
# Released folder -> lm-eval task name.
TASK_NAMES = {
    "EN-ABSA-CLS-review_topic_category": "ecom_absa_review_topic",
    "EN-Lenovo-Condition_Extract-Condition_Extract": "ecom_lenovo_condition_extract",
    "EN-Lenovo-NER-NER": "ecom_lenovo_ner",
    "ZH-MEPAVE-Condition_Extract-attribute_value_detection": "ecom_mepave_value_detection",
    "ZH-MEPAVE-NER-attribute_value_extraction": "ecom_mepave_value_extraction",
    "ZH-Multi_CPR-CLS-query_item_matching": "ecom_multicpr_query_item_matching",
    "ZH-Multi_CPR-Extract-product_select_2": "ecom_multicpr_product_select",
    "ZH-OpenBG_Align-CLS-item_align": "ecom_openbg_item_align",
    "ZH-OpenBG_Align-CLS-item_coarse_classify": "ecom_openbg_coarse_classify",
    "ZH-OpenBG_Align-CLS-item_fine_classify": "ecom_openbg_fine_classify",
    "ZH-OpenBG_Align-CLS-title_attribute_matching": "ecom_openbg_title_attribute_matching",
    "ZH-OpenBG_Align-Generate-title_generate": "ecom_openbg_title_generate",
    "EN-Reddit_QA-Extract-Extract_QA": "ecom_redditqa_extract_qa",
}

PARADIGM_OF_TYPE = {
    "CLS": "cls",
    "NER": "ner",
    "Extract": "ext",
    "Condition_Extract": "ext",
    "Generate": "gen",
}


@dataclass(frozen=True)
class ReleasedTask:
    folder: str  # e.g. "EN-ABSA-CLS-review_topic_category"
    dataset: str  # the top-level folder, e.g. "ABSA"
    files: dict  # file name -> {"sha256", "size"}

    @property
    def lang(self) -> str:
        return self.folder.split("-", 1)[0].lower()

    @property
    def task_type(self) -> str:
        # The dataset part may not contain "-", the type is the third field; the name may contain "-".
        return self.folder.split("-")[2]

    @property
    def paradigm(self) -> str:
        return PARADIGM_OF_TYPE[self.task_type]

    @property
    def relative_dir(self) -> str:
        return f"{self.dataset}/tasks/{self.folder}"

    @property
    def official(self) -> bool:
        return self.folder != NOT_IN_OFFICIAL_LIST


@cache
def manifest() -> dict:
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


@cache
def released_tasks() -> dict[str, ReleasedTask]:
    """Folder name -> ReleasedTask, for all 13 released evaluation folders."""
    return {
        t["task"]: ReleasedTask(folder=t["task"], dataset=t["dataset"], files=t["files"])
        for t in manifest()["tasks"]
    }


def released_task(folder: str) -> ReleasedTask:
    try:
        return released_tasks()[folder]
    except KeyError:
        known = ", ".join(sorted(released_tasks()))
        raise KeyError(f"{folder!r} is not a released EcomGPT evaluation folder; known: {known}") from None
