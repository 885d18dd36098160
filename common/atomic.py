"""Files and folders written whole or not at all.

Everything the project writes goes to a temporary name beside its target and is renamed
into place when complete, so a process killed at any moment leaves the old file or the
new one, never a torn one. (This guards against killed processes; it does not `fsync`,
so it promises nothing about a power cut.)

Example:
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_text(folder / "metrics.json", "{}")
>>> with replacing(folder / "metrics.json") as tmp:
...     _ = tmp.write_text('{"bleu": 1}')
>>> (folder / "metrics.json").read_text(), sorted(p.name for p in folder.iterdir())
('{"bleu": 1}', ['metrics.json'])
"""

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

PREFIX = ".partial-"  # every temporary's name starts so (a run clears them at start)


@contextlib.contextmanager
def replacing(path: Path | str) -> Iterator[Path]:
    """Yields a fresh temporary path beside `path` (a file or a folder to create) and
    renames it onto `path` when the block ends without an exception; on an exception
    the temporary is removed and `path` is untouched.

    The temporary name ends with `path`'s name, so suffix checks (`.keras`,
    `.weights.h5`, an image format) see the real one. A folder that already exists is
    moved aside first and deleted after the swap: a kill between the two renames leaves
    the old folder under `.partial-*`, never a half-written one under `path`. A
    symbolic link is followed: what it points to is replaced, and the link kept.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{PREFIX}{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        yield tmp
        if tmp.is_dir() and path.is_dir():
            old = path.with_name(f"{PREFIX}old-{uuid.uuid4().hex[:8]}-{path.name}")
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_text(path: Path | str, text: str) -> None:
    """`Path.write_text` (UTF-8) through `replacing`."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
