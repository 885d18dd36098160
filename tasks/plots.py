"""Figures the tasks write into a run's `plots/` folder."""

import textwrap
from pathlib import Path

import numpy as np

from common.figures import plt, save


def attention_heatmap(weights, rows: list[str], columns: list[str], path: Path, title: str):
    """Saves a `(len(rows), len(columns))` attention matrix as a labelled heatmap."""
    fig, ax = plt.subplots(figsize=(1 + 0.45 * len(columns), 1 + 0.4 * len(rows)))
    ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save(fig, path)


def caption_grid(images, captions: list[tuple[str, str]], path: Path, columns: int = 4):
    """Images with their generated caption (bold) and one reference below each."""
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 4.0 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, (output, reference) in zip(axes.flat, images, captions, strict=False):
        ax.imshow(image)
        ax.set_title(_wrap(output), fontsize=8, fontweight="bold")
        ax.text(0.5, -0.04, _wrap(reference), fontsize=7, ha="center", va="top",
                transform=ax.transAxes)  # fmt: skip
    fig.tight_layout()
    save(fig, path)


def attention_over_image(image, weights, words: list[str], path: Path):
    """One panel per generated word: its `(grid, grid)` attention over the image."""
    columns = min(len(words), 6)
    rows = -(-len(words) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    side = image.shape[0]
    for ax in axes.flat:
        ax.axis("off")
    for ax, word, attention in zip(axes.flat, words, weights, strict=False):
        ax.imshow(image)
        ax.imshow(attention, cmap="gray", alpha=0.6, extent=(0, side, side, 0),
                  interpolation="bilinear")  # fmt: skip
        ax.set_title(word, fontsize=9)
    fig.tight_layout()
    save(fig, path)


def _wrap(caption: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(caption, width)) or "(empty)"


def confusion(matrix, classes, path: Path) -> None:
    """A confusion matrix (rows: true class, columns: predicted) with counts."""
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * len(classes), 1.2 + 0.6 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, int(count), ha="center", va="center", fontsize=8,
                color="white" if count > matrix.max() / 2 else "black")  # fmt: skip
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    save(fig, path)


def series_labels(split, predicted, classes, path: Path, stretch: int = 150) -> None:
    """The closing price over a test stretch, coloured by true and by predicted label.

    The stretch follows `split.previous` links back from the last window, so it is
    one series in time order.
    """
    chain = [len(split.y) - 1]
    while len(chain) < stretch and split.previous[chain[-1]] >= 0:
        chain.append(int(split.previous[chain[-1]]))
    chain = chain[::-1]
    close = split.x[chain, -1, 3]
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    for ax, labels, title in ((axes[0], split.y[chain], "true"),
                              (axes[1], predicted[chain], "predicted")):  # fmt: skip
        ax.plot(close, color="0.6", linewidth=1)
        for k, name in enumerate(classes):
            at = np.flatnonzero(labels == k)
            ax.scatter(at, close[at], s=12, color=colours(k), label=name)
        ax.set_title(f"{title} label", fontsize=9)
        ax.set_ylabel("close")
    axes[0].legend(fontsize=8, ncol=len(classes))
    axes[1].set_xlabel("window (time order)")
    fig.tight_layout()
    save(fig, path)
