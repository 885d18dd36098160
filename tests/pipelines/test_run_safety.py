"""Nothing a user types can destroy data, and every error says what to fix (exit 2)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from common import atomic
from pipelines import cli, run
from pipelines.best_checkpoint import BestCheckpoint
from pipelines.inference import predict

ROOT = Path(__file__).parents[2]
HOLD = """
import sys, time
from pathlib import Path
from pipelines.run_directory import RunDirectory
with RunDirectory(Path(sys.argv[1])).lock():
    print("locked", flush=True)
    time.sleep(600)
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny classify run (moving shapes), trained once for the module."""
    workdir = tmp_path_factory.mktemp("runs") / "run"
    cli.main(["train", "--task", "classify", "--preset", "tiny", "--workdir", str(workdir)])
    return workdir


def _cli(args: list[str], capsys) -> tuple[int, str]:
    """Runs the command line in this process: (exit code, stderr)."""
    try:
        cli.main(args)
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


def test_export_writes_a_new_version_and_never_into_other_files(trained, tmp_path, capsys):
    keep = tmp_path / "Documents"
    keep.mkdir()
    (keep / "letter.txt").write_text("dear")
    for target in (keep, trained):  # a user's folder; the run itself
        code, err = _cli(["export", "--workdir", str(trained), "--out", str(target)], capsys)
        assert code == 2 and "which are not numbered exports of this project" in err
    assert sorted(p.name for p in keep.iterdir()) == ["letter.txt"]
    assert (trained / "config.json").exists()
    # a single export of the layout before versions is kept, and the error says what to do
    old = tmp_path / "old"
    old.mkdir()
    (old / "pipeline.json").write_text("{}")
    code, err = _cli(["export", "--workdir", str(trained), "--out", str(old)], capsys)
    assert code == 2 and f"move it to {old.resolve()}/1" in err
    assert os.listdir(old) == ["pipeline.json"]
    # through a symbolic link, a version goes where the link points, leaving no temporary
    (tmp_path / "link").symlink_to(trained / "export")
    assert _cli(["export", "--workdir", str(trained), "--out", str(tmp_path / "link")],
                capsys)[0] == 0  # fmt: skip
    assert (tmp_path / "link").is_symlink() and os.listdir(trained / "export") == ["1"]
    assert not list(trained.rglob(f"{atomic.PREFIX}*")) and not list(tmp_path.glob(".partial*"))


def test_a_second_process_is_refused_and_a_dead_ones_lock_taken_over(trained, tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(trained)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        for command in (["eval"], ["export"]):
            code, err = _cli([*command, "--workdir", str(trained)], capsys)
            assert code == 2 and f"is in use by process {holder.pid}" in err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    (trained / "checkpoints" / f"{atomic.PREFIX}dead-best.keras").write_text("torn")
    assert _cli(["eval", "--workdir", str(trained)], capsys)[0] == 0  # the lock died with it
    assert not list((trained / "checkpoints").glob(f"{atomic.PREFIX}*"))  # cleared at start


def test_the_best_checkpoint_is_written_only_when_the_epoch_improved(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    checkpoint = BestCheckpoint(tmp_path / "best.keras", "val_score", "max")
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_score": 0.5})
    first = (tmp_path / "best.keras").stat().st_mtime_ns
    time.sleep(0.01)
    checkpoint.on_epoch_end(1, {"val_score": 0.4})  # worse: untouched
    assert (tmp_path / "best.keras").stat().st_mtime_ns == first and checkpoint.best == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]


def test_a_typo_writes_nothing_and_a_failed_start_does_not_lock_the_run(tmp_path, capsys):
    workdir = tmp_path / "run"
    code, err = _cli(["train", "--task", "classify", "--preset", "tiny", "--workdir",
                      str(workdir), "--set", "model.encoder=gru"], capsys)  # fmt: skip
    assert code == 2 and "unknown encoder 'gru'" in err and not workdir.exists()
    code, err = _cli(["train", "--task", "classify", "--preset", "tiny", "--workdir",
                      str(workdir), "--data", f"text:{tmp_path / 'nope.csv'}"], capsys)  # fmt: skip
    assert code == 2 and "nope.csv: no such file" in err
    assert (
        _cli(
            [
                "train",
                "--task",
                "classify",
                "--preset",
                "tiny",
                "--workdir",
                str(workdir),
                "--set",
                "epochs=1",
            ],
            capsys,
        )[0]
        == 0
    )  # another config: nothing had trained
    code, err = _cli(["train", "--task", "classify", "--preset", "tiny", "--workdir",
                      str(workdir), "--set", "units=9"], capsys)  # fmt: skip
    assert code == 2 and "holds a run with a different task or config" in err


def test_a_run_refuses_data_that_changed_since_it_trained(tmp_path, capsys):
    """frames: reads class names from folder names: renaming one would shift labels."""
    for name in ("jump", "walk"):
        for c in range(6):
            clip = tmp_path / "clips" / name / f"clip{c}"
            clip.mkdir(parents=True)
            for f in range(6):
                Image.new("RGB", (16, 16), (40 * c, 30 * f, 0)).save(clip / f"{f}.png")
    workdir = tmp_path / "run"
    assert _cli(["train", "--task", "classify", "--preset", "tiny", "--workdir", str(workdir),
                 "--data", f"frames:{tmp_path / 'clips'}"], capsys)[0] == 0  # fmt: skip
    (tmp_path / "clips" / "walk").rename(tmp_path / "clips" / "run")
    for command in ("eval", "export"):
        code, err = _cli([command, "--workdir", str(workdir)], capsys)
        assert code == 2 and "changed since it trained (72 files added, removed" in err


@pytest.mark.parametrize("damage", ["missing workdir", "torn config", "no permission"])
def test_user_errors_exit_2_with_one_line(trained, tmp_path, capsys, damage):
    workdir = tmp_path / "copy"
    args = ["eval", "--workdir", str(workdir)]
    if damage == "missing workdir":
        args = ["eval"]
    elif damage == "torn config":
        workdir.mkdir()
        (workdir / "config.json").write_text('{"task": "classify", "conf')
    else:
        workdir.mkdir()
        os.chmod(workdir, 0o500)
        if os.geteuid() == 0:
            pytest.skip("root writes anywhere")
    code, err = _cli(args, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    if damage == "torn config":
        assert "config.json: not readable JSON" in err


def test_a_bug_exits_1_with_its_traceback(trained, monkeypatch):
    monkeypatch.setattr(run, "evaluate", lambda *args: {}["a bug"])
    with pytest.raises(KeyError):  # not turned into a one-line user error
        cli.main(["eval", "--workdir", str(trained)])


def test_make_clean_keeps_the_runs():
    recipe = (ROOT / "Makefile").read_text().split("\nclean:")[1].split("\n\n")[0]
    assert "rm" in recipe and "runs" not in recipe.replace("never runs/", "")


def test_predict_reads_each_clip_on_its_own(trained, tmp_path):
    """A clip's label does not depend on the other clips on the command line."""
    folders = []
    for i, frames in enumerate((4, 9)):
        folders.append(tmp_path / f"clip{i}")
        folders[-1].mkdir()
        for t in range(frames):
            Image.fromarray(np.full((20, 20, 3), 25 * t, "uint8")).save(folders[-1] / f"{t}.png")
    alone = [next(predict(trained / "export", [str(f)])) for f in folders]
    assert list(predict(trained / "export", [str(f) for f in folders])) == alone
