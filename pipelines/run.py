"""Prepare, train, evaluate and export for any registered task (predict:
`pipelines.inference`).

The run directory (`runs/<task>-<data>/` by default) holds `config.json`,
`checkpoints/best.keras`, `backup/` (resume state), `logs/` (TensorBoard),
`history.csv`, `metrics.json`, `plots/*.png`, `vocab/` and `export/<version>/`.
"""

import contextlib
import functools
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common import atomic
from common.errors import UserError
from pipelines import cudnn, distribution, settings, versions
from pipelines.backup import Backup
from pipelines.best_checkpoint import BestCheckpoint
from pipelines.epoch_average import EpochWeights
from pipelines.plots import plot_history
from pipelines.run_directory import RunDirectory, fingerprint, read_json
from tasks import get_task
from tasks.shards import Shards

CHECKPOINT = "checkpoints/best.keras"


def default_workdir(task: str, data: str) -> Path:
    """`runs/<task>-<data>`, e.g. `anki:/x/fra.txt` -> `runs/translate-anki-fra`."""
    kind, _, arg = data.partition(":")
    stem = Path(arg.split(",")[0]).stem if kind in ("anki", "files", "folder") else arg
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", f"{kind}-{stem}" if stem else kind).strip("-")
    return Path("runs") / f"{task}-{slug}"


def load_run(workdir: Path):
    """The task object of a trained run directory, built from its `config.json`, with
    what training recorded restored (`Task.restore`): no data is built. Data files
    that changed since training are refused (`RunDirectory.check_data`)."""
    path = Path(workdir) / "config.json"
    if not path.exists():
        raise UserError(f"{path} not found: train a model into {workdir} first")
    record = read_json(path)
    try:
        task_cls = get_task(record["task"])
        cfg = settings.from_dict(type(task_cls.presets["default"]), record["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(f"{path}: not a run's config ({err})") from None
    job = task_cls(cfg, Path(workdir))
    RunDirectory(workdir).check_data(job.data_files())
    job.restore()
    return job


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
    overrides: tuple[str, ...] = (),
    epochs: int | None = None,
):
    """The task's preset with `--data`, `--set` and `--epochs` applied."""
    overrides = list(overrides)
    if data:
        overrides.insert(0, f"data.source={data}")
    if epochs is not None:
        overrides.append(f"train.epochs={epochs}")
    return settings.resolve(get_task(task).presets, preset, overrides)


def write_shards(task: str, data: str | None = None, preset: str = "default",
                 overrides: tuple[str, ...] = (), out: Path | None = None,
                 count: int = 16) -> Path:  # fmt: skip
    """Encodes the source once (the task's tokenizers built and recorded) and writes
    each split to `count` TFRecord shards in `out` (default `WORKDIR/shards` of the
    default run), what `tfrecord:OUT` trains on; returns `out`. The folder appears
    whole or not at all, and an existing one is never replaced."""
    cfg = resolve_config(task, data, preset, overrides)
    out = Path(out or default_workdir(task, cfg.data.source) / "shards")
    if out.exists():
        raise UserError(f"{out} exists: give another --out, or remove it yourself")
    if count < 1:
        raise UserError(f"--shards {count}: give 1 or more")
    with atomic.replacing(out) as staging:
        job = get_task(task)(cfg, staging)
        splits, filled = job.records()  # `filled` as the splits are read
        meta = {"task": task, "config": settings.to_dict(cfg), "records": filled}
        shards = Shards.write(staging, meta, splits, count)
        counts = ", ".join(f"{split} {shards.count(split)}" for split in ("train", "val", "test"))
    print(f"wrote {task} shards to {out}: {counts} examples; train with --data tfrecord:{out}")
    return out


def prepare(task: str, cfg, workdir: Path | None = None):
    """Records `cfg` and the data's fingerprint in the run directory (a run that has
    trained refuses another config, or data that changed), builds the data and the
    compiled model.

    Returns `(job, splits, model)`; the dtype policy in force (see `precision`) is
    the model's.
    """
    workdir = Path(workdir or default_workdir(task, cfg.data.source))
    job = get_task(task)(cfg, workdir)  # checks what the config alone cannot
    run_dir = RunDirectory(workdir)
    run_dir.record_config({"task": task, "config": settings.to_dict(cfg)})
    if run_dir.trained:  # resumed: on the data it began with
        run_dir.check_data(job.data_files())
    keras.utils.set_random_seed(cfg.train.seed)
    splits = job.prepare()
    if not run_dir.trained:
        run_dir.record_data(job.data_files())
    model = job.build_model()
    steps = cfg.train.steps_per_execution
    if tf.distribute.get_strategy().num_replicas_in_sync > 1 and steps > 1:
        # Keras 3 fails on the optimizer's conds inside a multi-step loop under a
        # multi-replica strategy ("You must feed a value for placeholder", keras#19246).
        print(f"steps_per_execution {steps} -> 1: several replicas (keras#19246)")
        steps = 1
    model.compile(
        optimizer=_optimizer(cfg.train, splits.train),
        jit_compile=cfg.train.jit_compile,
        steps_per_execution=steps,
        **job.compile_args(),
    )
    return job, splits, model


def _optimizer(train_cfg, data: tf.data.Dataset) -> keras.optimizers.Optimizer:
    """The configured optimizer; a cosine schedule decays the learning rate to 5% over
    `train.epochs` epochs of `data` (Loshchilov & Hutter 2017, without restarts)."""
    rate = train_cfg.learning_rate
    if train_cfg.lr_schedule == "cosine":
        steps = int(data.cardinality())
        if steps < 0:  # unknown (bucketed trees): counted once
            steps = sum(1 for _ in data)
        rate = keras.optimizers.schedules.CosineDecay(rate, steps * train_cfg.epochs, alpha=0.05)
    clip = {"clipnorm": train_cfg.clipnorm or None}
    if train_cfg.optimizer == "adagrad":  # sums from ~0, as Tai et al.'s (and torch's):
        # Keras' 0.1 start keeps the first steps ~10x smaller (an SST run never learns)
        return keras.optimizers.Adagrad(rate, initial_accumulator_value=1e-10, **clip)
    return keras.optimizers.Adam(rate, **clip)


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
    overrides: tuple[str, ...] = (),
    workdir: Path | None = None,
    epochs: int | None = None,
    strategy: str = "default",
) -> Path:
    """Trains (resuming a killed run where it stopped), then evaluates on test and
    exports; returns the run directory. `strategy`: see `pipelines.distribution`."""
    cfg = resolve_config(task, data, preset, overrides, epochs)
    dist = distribution.make(strategy)  # before any other TensorFlow work
    workdir = Path(workdir or default_workdir(task, cfg.data.source))
    chief = distribution.is_chief(dist)
    with precision(cfg.train.mixed_precision), _writes(workdir, chief) as writes:
        with dist.scope():
            job, splits, model = prepare(task, cfg, writes)
        if strategy == "multiworker":
            splits.train, splits.val = map(distribution.shard, (splits.train, splits.val))
        _fit(model, splits, cfg.train, workdir, writes, job.callbacks(model), job.selection)
        if not chief:
            return workdir
        plot_history(workdir / "history.csv", workdir / "plots" / "history.png")
        model = keras.saving.load_model(workdir / CHECKPOINT, safe_mode=True)
        evaluate(workdir, "test", job, model)
        export(workdir, workdir / "export", job, model)
    return workdir


@contextlib.contextmanager
def _writes(workdir: Path, chief: bool):
    """Where this process writes: the run directory (locked for it), or a scratch
    folder for a non-chief worker (it trains in lock-step but its files are thrown
    away)."""
    if chief:
        with RunDirectory(workdir).lock():
            yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="worker-") as scratch:
        yield Path(scratch)


def _fit(model: keras.Model, splits, train_cfg, workdir: Path, writes: Path,
         task_callbacks: list, selection: tuple[str, str]) -> None:  # fmt: skip
    """`model.fit` from where the run's backup says, with the data at the same place.

    The training set's shuffle draws a new order each time an iterator of it starts;
    `_drawing_on_read` makes that once per epoch, so drawing `epoch` orders first gives
    a resumed run the order an unbroken one had. The interrupted epoch resumes at its
    step through `skip`, in a `fit` of its own.
    """
    first = next(iter(splits.train))  # draws an order, in every run alike
    print("\n".join(cudnn.report(model, keras.tree.map_structure(np.asarray, first[0]))))
    if train_cfg.mixed_precision:
        print(f"mixed precision: {keras.config.dtype_policy().name}")
    with contextlib.ExitStack() as scope:
        if model.distribute_strategy.num_replicas_in_sync > 1:
            from pipelines import keras_fixes  # private Keras: only where it is needed

            scope.enter_context(keras_fixes.patched_fit(model, first))
        epochs = EpochWeights(writes / "checkpoints" / "epochs", train_cfg.average_last)
        extra = [epochs] if train_cfg.average_last else []
        _fit_from_backup(model, splits, train_cfg, workdir, writes, [*task_callbacks, *extra],
                         selection)  # fmt: skip
    if train_cfg.average_last:
        _keep_average(model, epochs, splits.val, task_callbacks, selection, writes / CHECKPOINT,
                      always=train_cfg.average_keep == "always")  # fmt: skip


def _keep_average(model: keras.Model, epochs: EpochWeights, val: tf.data.Dataset,
                  callbacks: list, selection: tuple[str, str], best: Path,
                  always: bool) -> None:  # fmt: skip
    """The mean of the last epochs' weights replaces the best checkpoint when it scores
    better on the selection figure, or `always` (checkpoint averaging,
    `train.average_last`, `train.average_keep`).

    Both are scored in `model` itself, its weights swapped: a task's scorer may be
    bound to the model its callbacks were made for (a traced translator, say)."""
    monitor, mode = selection
    scorer = next((c.score for c in callbacks if getattr(c, "name", None) == monitor),
                  lambda m: m.evaluate(val, verbose=0, return_dict=True)["loss"])  # fmt: skip
    count = epochs.average(model)
    mean_weights = model.get_weights()
    averaged = scorer(model)
    model.set_weights(keras.saving.load_model(best, safe_mode=True).get_weights())
    kept = scorer(model)
    better = always or (averaged < kept if mode == "min" else averaged > kept)
    print(f"mean of the last {count} epochs' weights: {monitor} {averaged:.4f}, the best "
          f"epoch's {kept:.4f}: {'the mean' if better else 'the best epoch'} is kept")  # fmt: skip
    if better:
        model.set_weights(mean_weights)
        with atomic.replacing(best) as tmp:
            model.save(tmp)


def _fit_from_backup(model: keras.Model, splits, train_cfg, workdir: Path, writes: Path,
                     task_callbacks: list, selection: tuple[str, str]) -> None:  # fmt: skip
    """The best checkpoint and early stopping follow the task's `selection`, a
    validation figure (`val_loss`, or one its callbacks log, such as `val_bleu`)."""
    monitor, mode = selection
    kept = [BestCheckpoint(writes / CHECKPOINT, monitor, mode)]
    if train_cfg.patience:
        kept.append(keras.callbacks.EarlyStopping(monitor, patience=train_cfg.patience, mode=mode))
    backup = Backup(writes / "backup", writes / "history.csv", train_cfg.backup_steps, kept,
                    restore_from=workdir / "backup")  # fmt: skip
    epoch, step, stopped = backup.position()
    if stopped or epoch >= train_cfg.epochs:
        print(f"{workdir}: training finished before (epoch {epoch}); evaluating and exporting")
        return
    for _ in range(epoch):
        iter(splits.train)  # draws an order
    fit = functools.partial(
        model.fit,
        validation_data=splits.val,
        callbacks=[  # the task's first: they add to the logs the others read
            *task_callbacks,
            keras.callbacks.TensorBoard(str(writes / "logs"), write_graph=False),
            *kept,
            backup,
        ],
        verbose=1 if sys.stdout.isatty() else 2,
        shuffle=False,  # the task's tf.data pipeline shuffles
    )
    if step:
        print(f"{workdir}: resuming at epoch {epoch + 1}, step {step}")
        backup.offset = step
        fit(_drawing_on_read(splits.train.skip(step)), initial_epoch=epoch, epochs=epoch + 1)
        epoch += 1
        if model.stop_training:
            return
    elif epoch:
        print(f"{workdir}: resuming at epoch {epoch + 1}")
    if epoch < train_cfg.epochs:
        fit(_drawing_on_read(splits.train), initial_epoch=epoch, epochs=train_cfg.epochs)


def _drawing_on_read(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset`, whose iterators start (and draw a shuffle order) at their first read.

    Keras makes an iterator at each epoch's start and one more, unread, at its end.
    """
    lazy = tf.data.Dataset.range(1).flat_map(lambda _: dataset)
    count = dataset.cardinality()
    return lazy.apply(tf.data.experimental.assert_cardinality(count)) if count >= 0 else lazy


def evaluate(workdir: Path, split: str = "test", job=None, model=None) -> dict:
    """Scores the best checkpoint on `split`, prints it and records it in `metrics.json`."""
    workdir = Path(workdir)
    if job is None:  # a command of its own: it takes the run
        with RunDirectory(workdir).lock():
            return evaluate(workdir, split, load_run(workdir))
    model = model or keras.saving.load_model(workdir / CHECKPOINT, safe_mode=True)
    metrics = job.evaluate(model, split)
    path = workdir / "metrics.json"
    recorded = read_json(path) if path.exists() else {}
    recorded[split] = metrics
    atomic.write_text(path, json.dumps(recorded, indent=2, ensure_ascii=False) + "\n")
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
    """Writes the SavedModel as a new numbered version under `out` (default
    `WORKDIR/export`: `export/1/`, `export/2/`, ...) and returns its folder. The version
    appears whole or not at all; none is ever replaced. When the latest version is
    already the export of this checkpoint and config, it is kept and returned."""
    workdir = Path(workdir)
    out = Path(out or workdir / "export")
    if job is None:  # a command of its own: it takes the run
        with RunDirectory(workdir).lock():
            return export(workdir, out, load_run(workdir))
    identity = _export_identity(workdir, job)  # `model`, when given, is the checkpoint's
    found = versions.versions(out)
    newest = found.get(max(found, default=0))
    if newest and identity and read_json(newest / versions.MARK).get("of") == identity:
        print(f"{newest} is already the export of this checkpoint")
        return newest
    model = model or keras.saving.load_model(workdir / CHECKPOINT, safe_mode=True)
    imports = job.export_imports

    def write(staging: Path) -> None:
        job.export(model, staging)
        meta = {"task": job.name, "imports": imports, "of": identity,
                "config": settings.to_dict(job.cfg)}  # fmt: skip
        (staging / versions.MARK).write_text(json.dumps(meta) + "\n")
        if imports:
            (staging / "README.txt").write_text(_loading_note(imports))

    target = versions.publish(out, write)
    print(f"exported {job.name} SavedModel to {target}")
    return target


def _export_identity(workdir: Path, job) -> str | None:
    """SHA-256 of the best checkpoint's bytes and the config: what an export is made
    of (None without a checkpoint)."""
    checkpoint = workdir / CHECKPOINT
    if not checkpoint.is_file():
        return None
    (weights,) = fingerprint([checkpoint]).values()  # the bytes, wherever the run is
    made_of = {"checkpoint": weights, "config": settings.to_dict(job.cfg)}
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def _loading_note(imports: dict) -> str:
    """What a process must do before `tf.saved_model.load` of an export whose graph
    uses ops from packages outside core TensorFlow (`imports`: module -> pip line)."""
    lines = [f"This SavedModel uses ops of {', '.join(imports.values())}. Before loading it:",
             "", *(f"    pip install {pip}" for pip in imports.values()), "",
             "    import tensorflow as tf",
             *(f"    import {module}  # registers its ops" for module in imports),
             "    served = tf.saved_model.load(PATH)", "",
             "Without the import, loading fails: \"Op type not registered ...\"."]  # fmt: skip
    return "\n".join(lines) + "\n"
