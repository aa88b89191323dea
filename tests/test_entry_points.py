"""The installed package advertises its task folder and model under lm-eval's plugin entry-point groups."""

from importlib.metadata import entry_points

from lm_eval.api.model import LM


def test_task_folder_entry_point_resolves_to_the_suite():
    (entry,) = [e for e in entry_points(group="lm_eval.tasks") if e.name == "ecomgpt"]
    folder = entry.load()
    import ecom_tasks
    from ecom_tasks.release import TASK_NAMES
    assert folder == ecom_tasks.TASKS_DIR
    groups = {line.split(":", 1)[1].strip() for p in folder.glob("*.yaml") for line in p.read_text().splitlines()
              if line.startswith("group:")}
    assert {"ecom_unseen", "ecom_unseen_release"} <= groups
    assert all((folder / f"{name}.yaml").is_file() for name in TASK_NAMES.values())


def test_model_entry_point_resolves_to_the_openai_model():
    (entry,) = [e for e in entry_points(group="lm_eval.models") if e.name == "ecomgpt-openai"]
    model = entry.load()
    assert issubclass(model, LM)
    from lm_eval.api.registry import get_model
    assert get_model("ecomgpt-openai") is model
