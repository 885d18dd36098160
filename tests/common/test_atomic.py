"""Files and folders are replaced whole: an error or a SIGKILL never leaves a torn one."""

import os
import signal
import subprocess
import sys
import time

import pytest

from common import atomic

# Rewrites one 2 MB file forever, each version a single repeated letter.
WRITER = """
import sys
from common import atomic
for i in range(10**9):
    atomic.write_text(sys.argv[1], "ab"[i % 2] * 2_000_000)
"""


def test_an_error_keeps_the_old_file_and_no_temporary(tmp_path):
    atomic.write_text(tmp_path / "metrics.json", "old")
    with pytest.raises(RuntimeError), atomic.replacing(tmp_path / "metrics.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert (tmp_path / "metrics.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_folder_is_swapped_whole(tmp_path):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "old.pb").write_text("old")
    with pytest.raises(RuntimeError), atomic.replacing(tmp_path / "export") as tmp:
        tmp.mkdir()
        (tmp / "half.pb").write_text("half")
        raise RuntimeError("killed")
    assert [p.name for p in (tmp_path / "export").iterdir()] == ["old.pb"]
    with atomic.replacing(tmp_path / "export") as tmp:
        tmp.mkdir()
        (tmp / "new.pb").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["export"]
    assert [p.name for p in (tmp_path / "export").iterdir()] == ["new.pb"]


def test_a_sigkill_at_any_moment_leaves_a_whole_file(tmp_path):
    target = tmp_path / "state.json"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    for delay in [0.05 + 0.013 * i for i in range(12)]:
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], env=env)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if target.exists():
            text = target.read_text()
            assert len(text) == 2_000_000 and len(set(text)) == 1
    assert target.exists()
