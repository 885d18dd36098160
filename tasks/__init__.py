"""Task registry: each task builds its data, model, metrics and serving module."""

import importlib

TASKS = {
    "caption": "tasks.caption.task:CaptionTask",
    "classify": "tasks.classify.task:ClassifyTask",
    "translate": "tasks.translate.task:TranslateTask",
}


def get_task(name: str) -> type:
    """Returns the task class registered under `name`."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    module, cls = TASKS[name].split(":")
    return getattr(importlib.import_module(module), cls)
