"""Classification scores: accuracy, macro-F1, per-class precision and recall."""

import numpy as np


def classification_scores(y: np.ndarray, predicted: np.ndarray, classes) -> dict:
    """Accuracy, macro-F1, per-class precision and recall, and the confusion matrix.

    Example:
    >>> s = classification_scores(np.array([0, 0, 1]), np.array([0, 1, 1]), ("a", "b"))
    >>> s["accuracy"], s["macro_f1"], s["per_class"]["b"]
    (0.6667, 0.6667, {'precision': 0.5, 'recall': 1.0})
    """
    k = len(classes)
    confusion = np.bincount(y * k + predicted, minlength=k * k).reshape(k, k)  # true x pred
    hits = np.diag(confusion).astype(float)
    precision = np.divide(hits, confusion.sum(0), out=np.zeros(k), where=confusion.sum(0) > 0)
    recall = np.divide(hits, confusion.sum(1), out=np.zeros(k), where=confusion.sum(1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k),
                   where=precision + recall > 0)  # fmt: skip
    return {
        "accuracy": round(float(hits.sum() / max(len(y), 1)), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "per_class": {
            name: {"precision": round(float(p), 4), "recall": round(float(r), 4)}
            for name, p, r in zip(classes, precision, recall, strict=True)
        },
        "confusion": confusion,
    }
