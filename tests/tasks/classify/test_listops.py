import random

import numpy as np
import pytest

from common.errors import DataError
from tasks.classify import listops

ONE = "( ( ( ( ( [SM 6 ) 5 ) 9 ) 0 ) ] )"  # the first line of the released test_d20s.tsv


def _released_tree(rng, depth):
    """The released `generate_tree`: nested pairs, built from the left."""
    if depth < listops.MAX_DEPTH:
        r = rng.random()
    else:
        r = 1
    if r > listops.VALUE_P:
        return rng.choice(range(10))
    values = [_released_tree(rng, depth + 1) for _ in range(rng.randint(2, listops.MAX_ARGS))]
    tree = (rng.choice(["[MIN", "[MAX", "[MED", "[SM"]), values[0])
    for value in values[1:]:
        tree = (tree, value)
    return (tree, "]")


def _released_string(tree):
    if isinstance(tree, tuple):
        return f"( {_released_string(tree[0])} {_released_string(tree[1])} )"
    return str(tree)


def _released_value(tree):
    """The released `to_value`, with numpy's median."""
    if not isinstance(tree, tuple):
        return tree
    left, right = _released_value(tree[0]), _released_value(tree[1])
    if isinstance(left, str):
        return (left, [right])
    if right == "]":
        op, args = left
        ops = {"[MIN": min, "[MAX": max, "[SM": lambda a: np.sum(a) % 10}
        return int(np.median(args)) if op == "[MED" else int(ops[op](args))
    return (left[0], left[1] + [right])


def test_generate_draws_what_the_released_generator_draws():
    rng, expected, seen = random.Random(5), [], set()
    while len(expected) < 300:
        tree = _released_tree(rng, 1)
        text = _released_string(tree)
        if isinstance(tree, tuple) and text not in seen:
            seen.add(text)
            expected.append((_released_value(tree), text))
    assert listops.generate(300, seed=5) == expected


def test_generate_is_deterministic_distinct_and_never_a_single_digit():
    examples = listops.generate(2000, seed=1)
    assert examples == listops.generate(2000, seed=1)
    assert examples != listops.generate(2000, seed=2)
    texts = [x for _, x in examples]
    assert len(set(texts)) == len(texts)
    assert all(len(x.split()) > 1 for x in texts)
    assert all(y == listops.evaluate(x) for y, x in examples)
    assert {y for y, _ in examples} == set(range(10))


def _operators(expression):
    """(operator, argument count) of every operator, from the token stream."""
    found, stack = [], []
    for token in expression.split():
        if token in listops.APPLY:
            if stack:
                stack[-1][1] += 1
            stack.append([token, 0])
        elif token == "]":
            found.append(tuple(stack.pop()))
        elif token.isdigit():
            stack[-1][1] += 1
    return found


def test_operators_and_their_argument_counts():
    operators = [op for _, x in listops.generate(300, seed=3) for op in _operators(x)]
    assert {op for op, _ in operators} == set(listops.OPERATORS)
    assert {count for _, count in operators} == {2, 3, 4, 5}
    assert _operators(ONE) == [("[SM", 4)]


def test_max_length_counts_tokens_without_brackets():
    examples = listops.generate(300, seed=4, max_length=12)
    lengths = [listops.stats([e])["length_max"] for e in examples]
    assert max(lengths) <= 12 and min(lengths) >= 4
    assert listops.stats([(0, ONE)])["length_max"] == 6  # [SM 6 5 9 0 ]
    with pytest.raises(ValueError, match="max_length"):
        listops.generate(1, seed=0, max_length=3)


@pytest.mark.parametrize(
    "expression, value",
    [
        (ONE, 0),
        ("( ( ( ( ( [MIN 6 ) 3 ) 5 ) 0 ) ] )", 0),
        ("( ( ( ( [MAX 1 ) 5 ) ( ( ( ( [MIN 9 ) 2 ) 5 ) ] ) ) ] )", 5),
        ("[MED 1 4 ]", 2),  # (1 + 4) / 2 = 2.5, rounded down
        ("[MED 3 9 0 8 ]", 5),  # (3 + 8) / 2 = 5.5
        ("[MED 7 1 4 ]", 4),
        ("[SM 9 8 7 ]", 4),
        ("[SM 5 5 ]", 0),
        ("[MAX 2 [MIN 8 [SM 4 5 ] ] [MED 0 1 ] ]", 8),
        ("7", 7),
    ],
)
def test_evaluate(expression, value):
    assert listops.evaluate(expression) == value


@pytest.mark.parametrize(
    "expression, message",
    [
        ("( [MAX 1 2 ]", "unbalanced"),
        ("[MAX 1 2", "open"),
        ("[MAX ]", "no arguments"),
        ("[MAX 1 2 ] 3", "after the end"),
        ("[MAX 1 2 ] ]", "unexpected '\\]'"),
        ("[MAX 1 12 ]", "'12'"),
        ("[AVG 1 2 ]", "'\\[AVG'"),
        ("( )", "empty expression"),
    ],
)
def test_evaluate_rejects_malformed_expressions(expression, message):
    with pytest.raises(DataError, match=message):
        listops.evaluate(expression)


def test_stats():
    s = listops.stats([(0, ONE), (9, "[MAX 2 [MED 0 1 ] 9 ]"), (2, "[MIN 2 3 ]")])
    assert s["examples"] == 3 and s["labels"][0] == pytest.approx(1 / 3)
    assert (s["length_max"], s["length_median"], s["depth_max"]) == (8, 6, 2)
    assert s["one_operator"] == pytest.approx(2 / 3)


def test_write_then_read_round_trips(tmp_path):
    examples = listops.generate(50, seed=0)
    listops.write(tmp_path / "train.tsv", examples)
    with open(tmp_path / "train.tsv", "a") as f:
        f.write("\n\n")  # blank lines at the end are fine
    assert listops.read(tmp_path / "train.tsv") == examples


def test_read_long_range_arena_files_with_their_header(tmp_path):
    path = tmp_path / "basic_test.tsv"
    path.write_text(f"Source\tTarget\n{ONE}\t0\n( ( ( [MAX 2 ) 9 ) ] )\t9\n")
    assert listops.read(path) == [(0, ONE), (9, "( ( ( [MAX 2 ) 9 ) ] )")]
    path.write_text("Source\tTarget\n[MAX 2 9 ]\t9\n")  # evaluates, but is no tree
    with pytest.raises(DataError, match="basic_test.tsv:2: more than one tree"):
        listops.read(path)


@pytest.mark.parametrize(
    "line, message",
    [
        (ONE, "expected label<TAB>expression"),
        (f"x\t{ONE}", "label 'x' is not a digit"),
        (f"12\t{ONE}", "label '12' is not a digit"),
        ("3\t  ", "empty expression"),
        ("", "expected label<TAB>expression"),
        (f"5\t{ONE}", "label 5 but the expression's value is 0"),
        ("1\t( [MAX 1 2 ]", "unbalanced"),
    ],
)
def test_read_names_the_file_and_line_of_a_bad_line(tmp_path, line, message):
    path = tmp_path / "bad.tsv"
    path.write_text(f"0\t{ONE}\n{line}\n0\t{ONE}\n")
    with pytest.raises(DataError, match=rf"bad\.tsv:2: .*{message}"):
        listops.read(path)


def test_read_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.tsv"):
        listops.read(tmp_path / "missing.tsv")
