"""Loading a classify source as the task does, from `--set`-style settings."""

import tempfile
from pathlib import Path

from pipelines import settings
from tasks.base import SPLITS
from tasks.classify import modalities
from tasks.classify.config import PRESETS
from tasks.classify.modality import Data


def load_cfg(source: str, *overrides: str):
    """The default preset with `source` and `overrides` applied."""
    return settings.resolve(PRESETS, "default", [f"data.source={source}", *overrides])


def load_data(source: str, *overrides: str, workdir: Path | None = None) -> Data:
    """All splits of `source` under the default preset with `overrides` applied (the
    run directory, where a modality may keep files: `workdir` or a new one)."""
    workdir = workdir or Path(tempfile.mkdtemp())
    return modalities.for_source(source)(load_cfg(source, *overrides), workdir).load(SPLITS)
