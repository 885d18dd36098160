"""COCO caption metrics: BLEU-1..4, CIDEr-D and ROUGE-L, as the COCO evaluation
computes them, on captions tokenised as it tokenises them."""

import re

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

# What the COCO evaluation's tokenizer (Stanford PTBTokenizer, `-lowerCase`) drops.
PUNCTUATIONS = {"''", "'", "``", "`", ".", "?", "!", ",", ":", "-", "--", "...", ";", '"'}
# Brackets it keeps, as PTB escapes lower-cased (pycocoevalcap drops only "-LRB-" & co.).
BRACKETS = {"(": "-lrb-", ")": "-rrb-", "{": "-lcb-", "}": "-rcb-", "[": "-lsb-", "]": "-rsb-"}
_TOKENS = re.compile(
    r"n't\b|'(?:s|re|ve|ll|d|m)\b"  # clitics split off as PTB does: "do n't", "dog 's"
    r"|\.\.\.|--|[^\w\s'-]|'"  # punctuation, one token each
    r"|\bcan(?=not\b)|[\w-]+?(?=n't\b)|[\w-]+"  # words ("can not"), hyphenated ones whole
)


def coco_tokens(caption: str) -> str:
    """A caption tokenised as `pycocoevalcap.tokenizer.PTBTokenizer` does before
    scoring (it runs Stanford's Java tokenizer; this is the same in Python): lower
    case, clitics split off, punctuation removed, one space between tokens.

    Example:
    >>> coco_tokens("A dog's toy, on a black-and-white (checked) rug.")
    "a dog 's toy on a black-and-white -lrb- checked -rrb- rug"
    >>> coco_tokens("Two men don't SMILE ! We cannot .")
    "two men do n't smile we can not"
    """
    tokens = _TOKENS.findall(caption.lower())
    return " ".join(BRACKETS.get(t, t) for t in tokens if t not in PUNCTUATIONS)


def coco_scores(references: list[list[str]], hypotheses: list[str]) -> dict:
    """Corpus BLEU-1..4 (against all references of an image), CIDEr-D and ROUGE-L, of
    raw captions, each tokenised with `coco_tokens` first.

    pycocoevalcap's `Cider` is the CIDEr-D variant (clipped counts, Gaussian length
    penalty, sigma 6), with document frequencies from these references.

    Example:
    >>> scores = coco_scores([["The cat is on the mat."]], ["the cat sat on the mat"])
    >>> round(scores["bleu2"], 4), round(scores["bleu3"], 4), round(scores["rouge_l"], 4)
    (0.7071, 0.5, 0.8333)
    """
    gts = {i: [coco_tokens(r) for r in refs] for i, refs in enumerate(references)}
    res = {i: [coco_tokens(h) or "<empty>"] for i, h in enumerate(hypotheses)}  # one word
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    cider, _ = Cider().compute_score(gts, res)
    rouge, _ = Rouge().compute_score(gts, res)
    return {**{f"bleu{n + 1}": float(b) for n, b in enumerate(bleu)}, "cider": float(cider),
            "rouge_l": float(rouge)}  # fmt: skip
