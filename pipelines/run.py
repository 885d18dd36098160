"""Train, evaluate, export and predict for any registered task.

The run directory (`runs/<task>-<data>/` by default) holds `config.json`,
`checkpoints/best.keras`, `backup/` (resume state), `logs/` (TensorBoard),
`history.csv`, `metrics.json`, `plots/*.png`, `vocab/` and `export/`.
"""

import contextlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from pipelines import config, cudnn
from pipelines.plots import plot_history
from tasks import get_task

CHECKPOINT = "checkpoints/best.keras"


def default_workdir(task: str, data: str) -> Path:
    """`runs/<task>-<data>`, e.g. `anki:/x/fra.txt` -> `runs/translate-anki-fra`."""
    kind, _, arg = data.partition(":")
    stem = Path(arg.split(",")[0]).stem if kind in ("anki", "files", "folder") else arg
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", f"{kind}-{stem}" if stem else kind).strip("-")
    return Path("runs") / f"{task}-{slug}"


def _write_config(workdir: Path, task: str, cfg) -> None:
    path = workdir / "config.json"
    record = {"task": task, "config": config.to_dict(cfg)}
    if path.exists():
        old = json.loads(path.read_text())
        if old != record:
            raise config.ConfigError(
                f"{workdir} holds a run with a different task or config; "
                f"pass another --workdir or delete {workdir}"
            )
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def load_run(workdir: Path):
    """The task object of a run directory, built from its `config.json`."""
    path = Path(workdir) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: train a model into {workdir} first")
    record = json.loads(path.read_text())
    task_cls = get_task(record["task"])
    cfg_cls = type(task_cls.presets["default"])
    return task_cls(config.from_dict(cfg_cls, record["config"]), Path(workdir))


def _callbacks(workdir: Path, patience: int) -> list:
    fresh = not (workdir / "backup").exists()
    history = workdir / "history.csv"
    if fresh and history.exists():
        history.unlink()  # a new run, not a resumed one
    callbacks = [
        keras.callbacks.BackupAndRestore(str(workdir / "backup")),
        keras.callbacks.ModelCheckpoint(str(workdir / CHECKPOINT), save_best_only=True),
        keras.callbacks.TensorBoard(str(workdir / "logs"), write_graph=False),
        keras.callbacks.CSVLogger(str(history), append=True),
    ]
    if patience:
        callbacks.append(keras.callbacks.EarlyStopping(patience=patience))
    return callbacks


def mixed_policy() -> str:
    """The mixed-precision policy for this device.

    `mixed_float16` on a GPU: cuDNN's LSTM kernels take float16, not bfloat16.
    `mixed_bfloat16` on a CPU: float16 is emulated there, bfloat16 has native
    instructions on recent ones (AVX512-BF16, AMX) and needs no loss scaling.
    """
    return "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"


def resolve_config(
    task: str,
    data: str | None = None,
    preset: str = "default",
    settings: tuple[str, ...] = (),
    epochs: int | None = None,
):
    """The task's preset with `--data`, `--set` and `--epochs` applied."""
    settings = list(settings)
    if data:
        settings.insert(0, f"data.source={data}")
    if epochs is not None:
        settings.append(f"train.epochs={epochs}")
    return config.resolve(get_task(task).presets, preset, settings)


def prepare(task: str, cfg, workdir: Path | None = None):
    """Records `cfg` in the run directory, builds the data and the compiled model.

    Returns `(job, splits, model)`; the dtype policy in force (see `precision`) is
    the model's.
    """
    workdir = Path(workdir or default_workdir(task, cfg.data.source))
    _write_config(workdir, task, cfg)
    keras.utils.set_random_seed(cfg.train.seed)
    job = get_task(task)(cfg, workdir)
    splits = job.datasets()
    model = job.build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(
            cfg.train.learning_rate, clipnorm=cfg.train.clipnorm or None
        ),
        jit_compile=cfg.train.jit_compile,
        steps_per_execution=cfg.train.steps_per_execution,
        **job.compile_args(),
    )
    return job, splits, model


@contextlib.contextmanager
def precision(mixed: bool):
    """Sets the global dtype policy inside the block: `mixed_policy()` or float32.

    Example:
    >>> with precision(False):
    ...     print(keras.config.dtype_policy().name)
    float32
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(mixed_policy() if mixed else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def train(
    task: str,
    data: str | None = None,
    preset: str = "default",
    settings: tuple[str, ...] = (),
    workdir: Path | None = None,
    epochs: int | None = None,
) -> Path:
    """Trains, then evaluates on test and exports; returns the run directory."""
    cfg = resolve_config(task, data, preset, settings, epochs)
    with precision(cfg.train.mixed_precision):
        job, splits, model = prepare(task, cfg, workdir)
        workdir = job.workdir
        first_inputs = keras.tree.map_structure(np.asarray, next(iter(splits.train))[0])
        print("\n".join(cudnn.report(model, first_inputs)))
        if cfg.train.mixed_precision:
            print(f"mixed precision: {keras.config.dtype_policy().name}")
        (workdir / "checkpoints").mkdir(exist_ok=True)
        model.fit(
            splits.train,
            validation_data=splits.val,
            epochs=cfg.train.epochs,
            callbacks=_callbacks(workdir, cfg.train.patience),
            verbose=1 if sys.stdout.isatty() else 2,
            shuffle=False,  # the task's tf.data pipeline shuffles
        )
        plot_history(workdir / "history.csv", workdir / "plots" / "history.png")
        model = keras.saving.load_model(workdir / CHECKPOINT)
        evaluate(workdir, "test", job, model)
        export(workdir, workdir / "export", job, model)
    return workdir


def evaluate(workdir: Path, split: str = "test", job=None, model=None) -> dict:
    """Scores the best checkpoint on `split`, prints it and records it in `metrics.json`."""
    workdir = Path(workdir)
    if job is None:
        job = load_run(workdir)
        job.datasets()
    model = model or keras.saving.load_model(workdir / CHECKPOINT)
    metrics = job.evaluate(model, split)
    path = workdir / "metrics.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    recorded[split] = metrics
    path.write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n")
    _print_metrics(workdir, metrics)
    return metrics


def _print_metrics(workdir: Path, metrics: dict) -> None:
    print(f"\n{workdir} — {metrics['split']} split")
    for key, value in metrics.items():
        if key not in ("samples", "split"):
            print(f"  {key}: {value}")
    for sample in metrics.get("samples", []):
        print("  " + "\n    ".join(f"{k:>9}: {v}" for k, v in sample.items()))


def export(workdir: Path, out: Path | None = None, job=None, model=None) -> Path:
    """Writes the SavedModel atomically (a half-written export never replaces a good one)."""
    workdir = Path(workdir)
    out = Path(out or workdir / "export")
    if job is None:
        job = load_run(workdir)
        job.datasets()
    model = model or keras.saving.load_model(workdir / CHECKPOINT)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        job.export(model, staging / "model")
        (staging / "model" / "pipeline.json").write_text(json.dumps({"task": job.name}) + "\n")
        if out.exists():
            shutil.rmtree(out)
        (staging / "model").rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"exported {job.name} SavedModel to {out}")
    return out


def predict(model_dir: Path, inputs: list[str]) -> list[str]:
    """Runs an exported SavedModel on raw inputs (`-` reads lines from stdin)."""
    model_dir = Path(model_dir)
    meta = model_dir / "pipeline.json"
    if not meta.exists():
        raise FileNotFoundError(f"{meta} not found: is {model_dir} an export of this project?")
    task_cls = get_task(json.loads(meta.read_text())["task"])
    if inputs == ["-"]:
        inputs = [line.rstrip("\n") for line in sys.stdin]
    if not inputs:
        raise ValueError("predict needs at least one input (or '-' to read stdin)")
    served = tf.saved_model.load(str(model_dir))
    return task_cls.predict(served, inputs)
