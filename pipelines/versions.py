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

import errno
import os
import shutil
import uuid
from pathlib import Path

from common import atomic
from common.errors import UserError

MARK = "pipeline.json"  # what every export of this project holds


def versions(base: Path) -> dict[int, Path]:
    """The finished versions under `base`, number -> folder (none when it is missing),
    for writing one more: a folder that holds anything but versions (and temporaries of
    them) is refused, so exports are never written among a user's other files or into
    an export of the layout before versions (one folder holding `saved_model.pb`)."""
    base = Path(base).resolve()
    if (base / MARK).is_file():
        raise UserError(f"{base} is a single export (the layout before numbered versions): "
                        f"move it to {base}/1 (mkdir, then mv its files) to keep it, or "
                        f"give --out a new folder")  # fmt: skip
    found, strangers = _scan(base)
    if strangers:
        raise UserError(f"{base} holds {', '.join(sorted(strangers)[:3])}, which are not "
                        f"numbered exports of this project: refusing to write a version "
                        f"there; give --out a new folder")  # fmt: skip
    return found


def _scan(base: Path) -> tuple[dict[int, Path], list[str]]:
    """The versions in `base`, and the names of the other entries (temporaries of a
    killed export left out)."""
    if base.exists() and not base.is_dir():
        raise UserError(f"{base} is a file, not a folder of export versions")
    found, strangers = {}, []
    for entry in base.iterdir() if base.is_dir() else []:
        if entry.name.isdigit() and (entry / MARK).is_file():
            found[int(entry.name)] = entry
        elif not entry.name.startswith(atomic.PREFIX):
            strangers.append(entry.name)
    return found, strangers


def next_version(base: Path) -> Path:
    """The folder the next export under `base` goes to: one past the highest number."""
    found = versions(base)
    return Path(base).resolve() / str(max(found, default=0) + 1)


def publish(base: Path, write) -> Path:
    """Adds a version under `base`: `write(folder)` fills a temporary folder beside the
    versions, which is then renamed to the next number. The rename never replaces a
    folder (it fails on one that exists), so two exports at once get two numbers, and a
    killed one leaves only its temporary. Returns the version's folder."""
    base = Path(base).resolve()
    versions(base)  # refused before any work when it is not a folder of versions
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f"{atomic.PREFIX}{uuid.uuid4().hex[:8]}-version"
    try:
        write(staging)
        while True:
            target = next_version(base)
            try:
                os.rename(staging, target)
                return target
            except OSError as err:  # another export took the number first
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def latest(path: Path) -> Path:
    """The export to read at `path`: `path` itself when it is one (a version folder, or
    an export of the layout before versions), else its highest-numbered version (other
    files beside the versions are ignored)."""
    path = Path(path)
    if (path / MARK).is_file():
        return path
    found = _scan(path)[0] if path.is_dir() else {}
    if not found:
        raise UserError(f"no export at {path}: neither {MARK} there nor numbered version "
                        f"folders holding one (is it an export of this project?)")  # fmt: skip
    return found[max(found)]
