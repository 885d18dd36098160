"""`--strategy`: two replicas, or two worker processes, train like one device.

The same tiny translate run at the same global batch, three ways: one device; a
MirroredStrategy over 2 logical CPUs; a MultiWorkerMirroredStrategy of two local
processes on 127.0.0.1. Their histories must agree, and the 2-worker chief exports a
SavedModel that a fresh process loads. Then two workers train on prepared shards
(`tfrecord:`), each reading its own files.
"""

import json
import os
import socket
import subprocess
import sys

import pytest

SETTINGS = ("train.epochs=2",)

# One process, two logical CPUs: the one-device run, then the mirrored one.
TWO_CPUS = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from pipelines import run
for strategy in ("default", "mirrored"):
    run.train("translate", preset="tiny", overrides=tuple(sys.argv[2:]),
              workdir=f"{sys.argv[1]}/{strategy}", strategy=strategy)
"""

RELOAD = """
import tensorflow_text  # the export's README.txt: its ops are in the graph
import sys
import tensorflow as tf
served = tf.saved_model.load(sys.argv[1])
out = served.signatures["serving_default"](sentences=tf.constant(["the dog sees a cat"]))
print(out["translation"].shape[0])
"""


def _env(**extra):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _two_workers(workdir, *more):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    settings = [arg for s in SETTINGS for arg in ("--set", s)]
    command = [sys.executable, "-m", "pipelines", "train", "--task", "translate",
               "--preset", "tiny", "--strategy", "multiworker", "--workdir", str(workdir),
               *settings, *more]  # fmt: skip
    workers = [
        subprocess.Popen(
            command,
            env=_env(
                TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
            ),  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    try:
        outputs = [w.communicate(timeout=420)[0] for w in workers]
    finally:
        for w in workers:
            w.kill()
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output[-3000:]
    return outputs


def _columns(workdir):
    return (workdir / "history.csv").read_text().splitlines()[0].split(",")


def _rows(workdir):
    lines = (workdir / "history.csv").read_text().splitlines()
    return [float(x) for line in lines[1:] for x in line.split(",")]  # rows, flattened


@pytest.mark.slow
def test_mirrored_and_two_workers_follow_the_one_device_run(tmp_path):
    done = subprocess.run([sys.executable, "-c", TWO_CPUS, str(tmp_path), *SETTINGS],
                          env=_env(PYTHONPATH=os.getcwd()), capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "several replicas" in done.stdout  # the mirrored run really had two
    one_device = _rows(tmp_path / "default")
    assert {"epoch", "loss", "val_loss", "val_bleu"} <= set(_columns(tmp_path / "default"))
    assert len(one_device) == 2 * len(_columns(tmp_path / "default"))  # epochs x columns
    assert _rows(tmp_path / "mirrored") == pytest.approx(one_device, rel=1e-5)

    chief, worker = _two_workers(tmp_path / "workers")
    assert "exported translate SavedModel" in chief
    assert "exported" not in worker  # only the chief evaluates and writes
    assert _rows(tmp_path / "workers") == pytest.approx(one_device, rel=1e-5)
    assert not list((tmp_path / "workers").glob("worker-*"))
    _reloads(tmp_path / "workers" / "export" / "1")


def _reloads(export):
    loaded = subprocess.run([sys.executable, "-I", "-c", RELOAD, str(export)], env=_env(),
                            capture_output=True, text=True, cwd=export.parent)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout.split()[-1] == "1"


@pytest.mark.slow
def test_two_workers_read_their_own_shards(tmp_path):
    shards = tmp_path / "shards"
    command = [sys.executable, "-m", "pipelines", "prepare", "--task", "translate", "--preset",
               "tiny", "--out", str(shards), "--shards", "4"]  # fmt: skip
    done = subprocess.run(command, env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"train with --data tfrecord:{shards}" in done.stdout
    chief, worker = _two_workers(tmp_path / "run", "--data", f"tfrecord:{shards}")
    assert "exported translate SavedModel" in chief and "exported" not in worker
    # 240 training pairs, 32 a step: one device takes 8 steps an epoch; a worker reads
    # its two files (120 pairs) in steps of 16, 8 steps too, in lock-step with the other
    assert "8/8" in chief
    rows = _rows(tmp_path / "run")
    assert len(rows) == 2 * len(_columns(tmp_path / "run"))
    _reloads(tmp_path / "run" / "export" / "1")
