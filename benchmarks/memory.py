"""Memory as the data grows: the peak resident memory of a one-epoch `train` command
(data, fit, evaluation, export) on a generated source written to files, at 1x and at
10x its size, for translate (an `anki:` folder whose training file grows; its
validation and test files stay the same, as a WMT pair's newstest does, so the
evaluation is the same work at both scales) and caption (a `folder:` of PNG files).

A pipeline that streams its data holds about the same at 10x as at 1x; one that reads
its source whole grows with it. The target: the 10x run's peak within 15% of the 1x
run's.
"""

import csv
import sys
import tempfile
from pathlib import Path

from PIL import Image

from benchmarks import runs
from benchmarks.report import Row
from tasks.caption import shapes
from tasks.translate import toy_pairs

TARGET = 1.15  # the 10x run's peak over the 1x run's
SIZES = {"translate": 10_000, "caption": 2_000}  # at 1x: sentence pairs, images
QUICK_SIZES = {"translate": 200, "caption": 40}
SCALES = (1, 10)
HELD_PAIRS = 1_000  # translate's validation and test pairs, at every scale
# Smaller models than the presets' (the real-corpus translate model, the ImageNet
# backbone at 224 pixels) keep the runs to minutes: what grows with the data is the data.
SETTINGS = {
    "translate": ["model.units=64", "model.embedding_dim=32", "decode.beam_size=1"],
    "caption": ["model.weights=none", "model.backbone=small", "model.freeze_backbone=false",
                "data.cache_features=false", "data.image_size=64"],
}  # fmt: skip


def run(quick: bool = False) -> list[Row]:
    """A row per task: peak RSS at each scale and the 10x run's over the 1x run's."""
    rows = []
    for task in ("translate", "caption"):
        peaks = {}
        size = (QUICK_SIZES if quick else SIZES)[task]
        for scale in SCALES:
            peaks[scale] = peak_rss_mb(task, size * scale, quick)
        ratio = peaks[SCALES[-1]] / peaks[SCALES[0]]
        figures = {f"MiB peak RSS {s}x": peak for s, peak in peaks.items()}
        rows.append(Row("memory", f"{task} one epoch, {size:,} and 10x from files",
                        {**figures, "10x / 1x": ratio}, f"10x <= {TARGET}x the 1x peak",
                        ratio <= TARGET))  # fmt: skip
    return rows


def peak_rss_mb(task: str, count: int, quick: bool) -> float:
    """Peak RSS (MiB) of one epoch of `train` on `count` generated examples in files."""
    with tempfile.TemporaryDirectory() as tmp:
        source = WRITERS[task](Path(tmp) / "data", count)
        command = [sys.executable, "-m", "pipelines", "train", "--task", task,
                   "--data", source, "--preset", "tiny" if quick else "default",
                   "--epochs", "1", "--workdir", str(Path(tmp) / "run")]  # fmt: skip
        for setting in SETTINGS[task]:
            command += ["--set", setting]
        peak = runs.child(command, Path(tmp) / "train.log")[1]
    print(f"memory: {task}, {count:,} examples: {peak:,.0f} MiB peak RSS", flush=True)
    return peak


def write_pairs(folder: Path, count: int) -> str:
    """`count` generated training pairs as an `anki:` folder, beside validation and
    test files of `HELD_PAIRS` pairs each that do not depend on `count`; returns the
    source.

    Example:
    >>> import tempfile
    >>> from tasks.translate.sources import read_anki
    >>> source = write_pairs(Path(tempfile.mkdtemp()), 5)
    >>> [len(list(read_anki(Path(source[5:]) / f"{s}.tsv"))) for s in ("train", "val", "test")]
    [5, 1000, 1000]
    """
    folder.mkdir(parents=True, exist_ok=True)
    held = toy_pairs.generate(2 * HELD_PAIRS, seed=1)
    for name, pairs in (("train", toy_pairs.generate(count, seed=0)),
                        ("val", held[:HELD_PAIRS]), ("test", held[HELD_PAIRS:])):  # fmt: skip
        lines = [f"{p.source}\t{p.target}\n" for p in pairs]
        (folder / f"{name}.tsv").write_text("".join(lines), encoding="utf-8")
    return f"anki:{folder}"


def write_images(folder: Path, count: int) -> str:
    """`count` generated scenes as a `folder:` of PNG files and captions.csv; returns
    the source.

    Example:
    >>> import tempfile
    >>> from tasks.caption.sources import captioned_images
    >>> source = write_images(Path(tempfile.mkdtemp()), 3)
    >>> [len(captions) for _, captions, _ in captioned_images(Path(source[7:]))]
    [5, 5, 5]
    """
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with (folder / "captions.csv").open("w", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(["image", "caption"])
        for i, scene in enumerate(shapes.generate(count, size=64, seed=0)):
            Image.fromarray(scene.image).save(folder / "images" / f"{i:06d}.png")
            rows.writerows([f"{i:06d}.png", caption] for caption in scene.captions)
    return f"folder:{folder}"


WRITERS = {"translate": write_pairs, "caption": write_images}
