"""Numbered export versions: `export/1/`, `export/2/`, ... under one base folder, the
layout TF Serving's `model_base_path` expects. A new export is a new version; no
version folder is ever replaced or changed in place, and readers take the latest.

Example:
>>> import tempfile
>>> base = Path(tempfile.mkdtemp()) / "export"
>>> first = next_version(base)
>>> first.name
'1'
>>> first.mkdir(parents=True); _ = (first / "pipeline.json").write_text("{}")
>>> latest(base) == first, next_version(base).name
(True, '2')
"""

from pathlib import Path

from common import atomic
from common.errors import UserError

MARK = "pipeline.json"  # what every export of this project holds


def versions(base: Path) -> dict[int, Path]:
    """The finished versions under `base`, number -> folder (none when it is missing).

    A folder that is neither a version nor a temporary of one is refused: exports are
    never written among a user's other files (or into an export of the layout before
    versions, which is one folder holding `saved_model.pb`).
    """
    base = Path(base).resolve()
    if not base.exists():
        return {}
    if (base / MARK).is_file():
        raise UserError(f"{base} is a single export (the layout before numbered versions): "
                        f"move it to {base}/1 (mkdir, then mv its files) to keep it, or "
                        f"give --out a new folder")  # fmt: skip
    found, strangers = {}, []
    for entry in base.iterdir() if base.is_dir() else [base]:
        if entry.name.isdigit() and (entry / MARK).is_file():
            found[int(entry.name)] = entry
        elif not entry.name.startswith(atomic.PREFIX):  # a killed export's temporary
            strangers.append(entry.name)
    if strangers:
        raise UserError(f"{base} holds {', '.join(sorted(strangers)[:3])}, which are not "
                        f"numbered exports of this project: refusing to write a version "
                        f"there; give --out a new folder")  # fmt: skip
    return found


def next_version(base: Path) -> Path:
    """The folder the next export under `base` goes to: one past the highest number."""
    found = versions(base)
    return Path(base).resolve() / str(max(found, default=0) + 1)


def latest(path: Path) -> Path:
    """The export to read at `path`: `path` itself when it is one (a version folder, or
    an export of the layout before versions), else its highest-numbered version."""
    path = Path(path)
    if (path / MARK).is_file():
        return path
    found = versions(path) if path.is_dir() else {}
    if not found:
        raise UserError(f"no export at {path}: neither {MARK} there nor numbered version "
                        f"folders holding one (is it an export of this project?)")  # fmt: skip
    return found[max(found)]
