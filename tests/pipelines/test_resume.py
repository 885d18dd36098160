"""Crash safety: SIGKILL mid-epoch, run the same command again, get the unbroken run.

Each task's tiny preset trains twice without a break (the same seed must give the same
history and test metrics) and once killed in the middle of its second epoch and then
rerun: the rerun must say where it resumed and end with the unbroken run's figures.
Translate reads an `anki:` file, the source that streams from disk.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tasks.translate import toy_pairs

SETTINGS = {  # dropout on, so that its random state must be restored too
    "translate": ["model.dropout=0.3"],
    "caption": ["data.size=120", "model.dropout=0.3"],
    "classify": ["model.dropout=0.3"],
}
COMMON = ["train.epochs=2", "train.batch_size=4", "train.steps_per_execution=2",
          "train.backup_steps=4"]  # fmt: skip


def _command(task, workdir):
    settings = [arg for s in COMMON + SETTINGS[task] for arg in ("--set", s)]
    if task == "translate":  # a file source: read a line at a time into a row file
        settings += ["--data", f"anki:{_pairs_file(workdir.parent)}"]
    return [sys.executable, "-m", "pipelines", "train", "--task", task, "--preset", "tiny",
            "--workdir", str(workdir), *settings]  # fmt: skip


def _pairs_file(folder) -> str:
    path = folder / "pairs.txt"
    if not path.exists():
        pairs = toy_pairs.generate(300, seed=0)
        path.write_text("".join(f"{p.source}\t{p.target}\n" for p in pairs), encoding="utf-8")
    return str(path)


def _train(task, workdir) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(_command(task, workdir), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _kill_mid_epoch(task, workdir) -> dict:
    """Starts training, SIGKILLs it once a backup inside epoch 2 is committed."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(_command(task, workdir), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    state_file = workdir / "backup" / "state.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if state_file.exists():
            state = json.loads(state_file.read_text())
            if state["epoch"] == 1 and state["step"] > 0:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return state
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"no mid-epoch backup of epoch 2 appeared (exit code {process.poll()})")


def _figures(workdir) -> tuple[str, dict]:
    metrics = json.loads((workdir / "metrics.json").read_text())["test"]
    numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
    return (workdir / "history.csv").read_text(), numbers


def _history_rows(text: str) -> list[list[float]]:
    return [[float(x) for x in line.split(",")] for line in text.splitlines()[1:]]


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(SETTINGS))
def test_same_seed_same_figures_and_a_killed_run_resumes_to_them(task, tmp_path):
    _train(task, tmp_path / "one")
    _train(task, tmp_path / "two")
    history, metrics = _figures(tmp_path / "one")
    assert _figures(tmp_path / "two") == (history, metrics)  # deterministic, to the bit

    killed = _kill_mid_epoch(task, tmp_path / "killed")
    out = _train(task, tmp_path / "killed")
    assert f"resuming at epoch 2, step {killed['step']}" in out
    resumed_history, resumed_metrics = _figures(tmp_path / "killed")
    # Equal up to float32 summation order: metric totals are added back after a resume.
    for row, expected in zip(_history_rows(resumed_history), _history_rows(history), strict=True):
        assert row == pytest.approx(expected, rel=1e-5)
    assert resumed_metrics == pytest.approx(metrics, rel=1e-3, abs=1e-3)
    assert not list((tmp_path / "killed").rglob(".partial-*"))
