"""A run directory: who may write it, and what it records of the run.

One process at a time writes a run (`lock`): a second is refused at once, naming the
first's pid; the lock is the kernel's (`flock`), so it dies with its process and a
later command takes it over. Taking it also clears the temporaries (`.partial-*`)
that a killed process left. The run records its config (`config.json`: training into
a directory that has trained another config is refused) and a fingerprint of the data
files it trained on (`data.json`: evaluating, exporting or resuming on data that
changed since is refused).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

from common import atomic
from common.errors import ConfigError, DataError, UserError


class RunDirectory:
    """The folder of one run.

    Example:
    >>> import tempfile
    >>> run = RunDirectory(Path(tempfile.mkdtemp()) / "run")
    >>> with run.lock():
    ...     run.record_config({"task": "demo", "config": {"units": 8}})
    ...     run.record_data([])
    >>> run.check_data([])
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    @contextlib.contextmanager
    def lock(self):
        """This process alone writes the run inside the block."""
        self.path.mkdir(parents=True, exist_ok=True)
        lock = self.path / ".lock"
        handle = open(lock, "a+")  # noqa: SIM115 (held for the whole block)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise UserError(f"{self.path} is in use by process {holder} (a training, "
                                f"evaluation or export): wait for it to end") from None  # fmt: skip
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            self._clear_temporaries()
            yield self
        finally:
            handle.close()  # releases the lock

    def _clear_temporaries(self) -> None:
        """Removes what a killed process was writing (`common.atomic` names)."""
        for path in sorted(self.path.rglob(f"{atomic.PREFIX}*"), reverse=True):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    @property
    def trained(self) -> bool:
        """Whether training has saved anything here (a backup or a checkpoint)."""
        return any((self.path / name).exists() for name in ("backup", "checkpoints"))

    def record_config(self, record: dict) -> None:
        """Writes `config.json`; a run that has trained another config is refused."""
        path = self.path / "config.json"
        record = json.loads(json.dumps(record))  # as it reads back
        if path.exists() and self.trained and read_json(path) != record:
            raise ConfigError(
                f"{self.path} holds a run with a different task or config; "
                f"pass another --workdir or delete {self.path}"
            )
        atomic.write_text(path, json.dumps(record, indent=2) + "\n")

    def record_data(self, files: list[Path]) -> None:
        """Records the fingerprint of the data `files` that training reads."""
        atomic.write_text(self.path / "data.json", json.dumps(fingerprint(files), indent=1))

    def check_data(self, files: list[Path]) -> None:
        """Refuses data `files` that differ from those the run recorded."""
        path = self.path / "data.json"
        if not path.exists():
            return  # a run from before fingerprints
        recorded, now = read_json(path), fingerprint(files)
        if recorded == now:
            return
        changed = sorted(set(recorded) ^ set(now) | {f for f in now if recorded.get(f) != now[f]})
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3
                                          else "")  # fmt: skip
        raise DataError(
            f"the data of {self.path} changed since it trained ({len(changed)} files added, "
            f"removed or changed: {shown}): its labels or vocabularies may not match them; "
            f"train a new run on this data"
        )


def read_json(path: Path) -> dict:
    """A JSON file the project wrote; a torn or edited one is an error naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not readable JSON ({err}); restore or delete it") from None


def fingerprint(files: list[Path]) -> dict[str, str]:
    """`{path: sha256 of its bytes}` of `files`."""
    out = {}
    for file in sorted(set(map(Path, files))):
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        out[str(file)] = digest.hexdigest()
    return out
