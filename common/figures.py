"""Figure files: matplotlib without a screen, each figure written atomically."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common import atomic  # noqa: E402


def save(fig, path: Path) -> None:
    """Writes `fig` to `path` (its suffix names the format) atomically and closes it.

    Example:
    >>> import tempfile
    >>> fig, _ = plt.subplots()
    >>> save(fig, Path(tempfile.mkdtemp()) / "empty.png")
    """
    with atomic.replacing(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
