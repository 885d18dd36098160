import pytest

from tasks.caption.metrics import coco_scores, coco_tokens


def test_bleu_matches_hand_computed_values():
    # hypothesis "the cat sat on the mat" against "the cat is on the mat": clipped
    # n-gram precisions 5/6, 3/5, 1/4 and 0/3; equal lengths, so no brevity penalty.
    scores = coco_scores([["the cat is on the mat"]], ["the cat sat on the mat"])
    assert scores["bleu1"] == pytest.approx(5 / 6, abs=1e-6)
    assert scores["bleu2"] == pytest.approx((5 / 6 * 3 / 5) ** 0.5, abs=1e-6)
    assert scores["bleu3"] == pytest.approx((5 / 6 * 3 / 5 * 1 / 4) ** (1 / 3), abs=1e-6)
    assert scores["bleu4"] < 1e-3


def test_bleu_takes_the_best_reference_and_penalises_brevity():
    refs = [["a red circle left of a blue square", "there is a red circle"]]
    assert coco_scores(refs, ["a red circle left of a blue square"])["bleu4"] == pytest.approx(1)
    # "a red circle" matches every n-gram but is shorter than the closest reference (5).
    assert coco_scores(refs, ["a red circle"])["bleu1"] == pytest.approx(
        __import__("math").exp(1 - 5 / 3), abs=1e-6
    )


def test_cider_d_by_hand_for_exact_captions_with_disjoint_vocabularies():
    # Every n-gram occurs in one image's references only (idf = log 2), so each n-gram
    # cosine is 1 where the caption has n-grams of that order, and the length penalty
    # is 1. CIDEr-D = 10 * mean over n = 1..4: 7.5 for the 3-word caption (it has no
    # 4-grams), 10 for the 4-word one; the corpus score is their mean, 8.75.
    refs = [["a red circle"], ["two big blue squares"]]
    scores = coco_scores(refs, ["a red circle", "two big blue squares"])
    assert scores["cider"] == pytest.approx(8.75)
    assert coco_scores(refs, ["two big blue squares", "a red circle"])["cider"] == 0


def test_empty_hypothesis_scores_zero_instead_of_crashing():
    assert coco_scores([["a red circle"]], [""])["bleu1"] == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize(
    "caption,tokens",
    [
        ("A dog runs through the grass .", "a dog runs through the grass"),
        ("Two girls, one in pink; smile!", "two girls one in pink smile"),
        ("A man's bike isn't red.", "a man 's bike is n't red"),
        ('The "big" dog (black) - jumps?', "the big dog -lrb- black -rrb- jumps"),
        ("a {b} [c] d", "a -lcb- b -rcb- -lsb- c -rsb- d"),
        ("x -- y ... z", "x y z"),
        ("it costs $5 or 5% ok", "it costs $ 5 or 5 % ok"),
        ("A black-and-white dog", "a black-and-white dog"),
        ("  ", ""),
    ],
)
def test_coco_tokens_match_the_ptb_tokenizer_on_known_captions(caption, tokens):
    """What pycocoevalcap's Java PTBTokenizer gives for these (lower case, clitics
    split, punctuation removed, brackets escaped), as run on them; and on all 4,000
    Flickr8k-800 captions while writing `coco_tokens`."""
    assert coco_tokens(caption) == tokens
