"""Train, evaluate, export and predict for any registered task.

The run directory (`runs/<task>-<data>/` by default) holds `config.json`,
`checkpoints/best.keras`, `backup/` (resume state), `logs/` (TensorBoard),
`history.csv`, `metrics.json`, `plots/*.png`, `vocab/` and `export/`.
"""

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from pipelines import config
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


def train(
    task: str,
    data: str | None = None,
    preset: str = "default",
    settings: tuple[str, ...] = (),
    workdir: Path | None = None,
    epochs: int | None = None,
) -> Path:
    """Trains, then evaluates on test and exports; returns the run directory."""
    task_cls = get_task(task)
    settings = list(settings)
    if data:
        settings.insert(0, f"data.source={data}")
    if epochs is not None:
        settings.append(f"train.epochs={epochs}")
    cfg = config.resolve(task_cls.presets, preset, settings)
    workdir = Path(workdir or default_workdir(task, cfg.data.source))
    _write_config(workdir, task, cfg)
    keras.utils.set_random_seed(cfg.train.seed)
    job = task_cls(cfg, workdir)
    splits = job.datasets()
    model = job.build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.train.learning_rate),
        jit_compile=cfg.train.jit_compile,
        **job.compile_args(),
    )
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
