"""COCO caption metrics: BLEU-1..4 and CIDEr-D, as the COCO evaluation computes them."""

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider


def coco_scores(references: list[list[str]], hypotheses: list[str]) -> dict:
    """Corpus BLEU-1..4 (against all references of an image) and CIDEr-D.

    Captions must already be tokenised into space-separated lower-case words.
    pycocoevalcap's `Cider` is the CIDEr-D variant (clipped counts, Gaussian length
    penalty, sigma 6), with document frequencies from these references.

    Example:
    >>> scores = coco_scores([["the cat is on the mat"]], ["the cat sat on the mat"])
    >>> round(scores["bleu2"], 4), round(scores["bleu3"], 4)
    (0.7071, 0.5)
    """
    gts = {i: refs for i, refs in enumerate(references)}
    res = {i: [h or "<empty>"] for i, h in enumerate(hypotheses)}  # COCO wants one word
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    cider, _ = Cider().compute_score(gts, res)
    return {**{f"bleu{n + 1}": float(b) for n, b in enumerate(bleu)}, "cider": float(cider)}
