"""`listops`: nested list operations over digits (Nangia & Bowman 2018).

An expression applies `[MIN`, `[MAX`, `[MED` (the median, rounded down) or `[SM` (the
sum modulo 10) to 2-5 arguments, each a digit or another expression, and closes with
`]`; the label is its value, a digit.

`generate` makes the same draws as the released generator (nyu-mll/spinn,
`python/spinn/data/listops/make_data.py`), call for call: seeded alike, it draws the
same trees. A node below depth `MAX_DEPTH` is a digit when a uniform draw exceeds
`VALUE_P = 0.25`, so with probability 0.75, and an operator otherwise; at `MAX_DEPTH`
it is a digit. (The issue asked for digits with probability 0.25, but then a node has
0.75 * 3.5 = 2.6 children on average and nearly every tree grows to depth 20; the
released code, followed here, makes operators the 0.25 case.)

The text form is the released one: the tree is bracketed in pairs from the left,
`( ( ( [MAX 2 ) 9 ) ] )` for MAX(2, 9). The *length* of an expression counts its
operators, digits and `]`, not the brackets `(` `)` (the length the Long Range Arena
generator filters on); its *depth* is the operator nesting (one operator: 1).

Example:
>>> for label, expression in generate(2, seed=0):
...     print(label, expression)
4 ( ( ( ( ( ( [MED 4 ) 5 ) 3 ) 4 ) ( ( ( [MAX 4 ) 8 ) ] ) ) ] )
3 ( ( ( [MED 5 ) 1 ) ] )
>>> evaluate("( ( ( [MED 1 ) 4 ) ] )"), evaluate("[SM 9 ( ( ( [MIN 8 ) 3 ) ] ) ]")
(2, 2)
"""

import random
import re
import statistics
from pathlib import Path

from common import atomic
from common.errors import DataError
from tasks import trees
from tasks.base import read_text

OPERATORS = ("[MIN", "[MAX", "[MED", "[SM")  # the released order: the draws depend on it
END = "]"
DIGITS = range(10)
VALUE_P = 0.25
MAX_ARGS = 5
MAX_DEPTH = 20
LRA_HEADER = "Source\tTarget"  # Long Range Arena copies: a header, then expression<TAB>label


def _median(args: list[int]) -> int:
    """`int(np.median(args))` of digits: an even count takes the middle pair's mean, floored."""
    ordered = sorted(args)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) // 2


_DIGIT_TEXT = {str(d): d for d in DIGITS}
APPLY = {"[MIN": min, "[MAX": max, "[MED": _median, "[SM": lambda args: sum(args) % 10}


def _tree(rng: random.Random, depth: int) -> tuple[str, int, int]:
    """One node as `generate_tree(depth)` draws it: (text, value, length)."""
    if depth >= MAX_DEPTH or rng.random() > VALUE_P:
        digit = rng.choice(DIGITS)
        return str(digit), digit, 1
    args = [_tree(rng, depth + 1) for _ in range(rng.randint(2, MAX_ARGS))]
    op = rng.choice(OPERATORS)
    text = "( " * (len(args) + 1) + op + " " + " ) ".join(a[0] for a in args) + " ) ] )"
    return text, APPLY[op]([a[1] for a in args]), 2 + sum(a[2] for a in args)


def generate(size: int, seed: int, max_length: int | None = None) -> list[tuple[int, str]]:
    """`size` distinct `(label, expression)` pairs, in the order drawn.

    Single digits and expressions longer than `max_length` tokens are drawn and dropped.
    Draw train, validation and test in one call and split the list: separate calls
    overlap, and deduplicating within a smaller pool keeps more small trees.
    """
    if max_length is not None and max_length < 4:
        raise ValueError(f"max_length must be 4 or more (e.g. [SM 1 2 ]), got {max_length}")
    rng = random.Random(seed)
    seen, examples = set(), []
    while len(examples) < size:
        text, value, length = _tree(rng, 1)
        too_long = max_length is not None and length > max_length
        if length > 1 and not too_long and text not in seen:
            seen.add(text)
            examples.append((value, text))
    return examples


def evaluate(expression: str) -> int:
    """The value of an expression; the brackets `(` `)` may be left out.

    Example:
    >>> evaluate("[MAX 2 [MED 0 1 ] 9 ]"), evaluate("[MED 1 4 6 9 ]")
    (9, 5)
    """
    tokens = re.findall(r"\S+", expression, re.ASCII)  # split as `tasks.trees` splits
    if tokens.count("(") != tokens.count(")"):
        raise DataError("unbalanced brackets ( ) in the expression")
    stack: list[tuple[str, list[int]]] = []
    result = None
    for position, token in enumerate(tokens, 1):
        if token in ("(", ")"):
            continue
        if token in APPLY:
            stack.append((token, []))
            continue
        if token == END and stack:
            op, args = stack.pop()
            if not args:
                raise DataError(f"token {position}: {op} has no arguments")
            value = APPLY[op](args)
        elif token in _DIGIT_TEXT:
            value = _DIGIT_TEXT[token]
        else:
            raise DataError(f"token {position}: unexpected {token!r}")
        if stack:
            stack[-1][1].append(value)
        elif result is None:
            result = value
        else:
            raise DataError(f"token {position}: {token!r} after the end of the expression")
    if stack:
        raise DataError(f"the expression ends with {len(stack)} operator(s) open")
    if result is None:
        raise DataError("empty expression")
    return result


def read(path: Path) -> list[tuple[int, str]]:
    """`(label, expression)` pairs of a released file, each label checked by `evaluate`.

    Lines are `label<TAB>expression` (nyu-mll `train_d20s.tsv`, `test_d20s.tsv`) or,
    after a `Source<TAB>Target` header, `expression<TAB>label` (Long Range Arena's
    `basic_*.tsv`). Blank lines at the end are ignored. Every expression must also
    parse as a tree (`tasks.trees`, as the model reads it).
    """
    lines = [line.rstrip("\r") for line in read_text(Path(path)).split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    swap = bool(lines) and lines[0].strip() == LRA_HEADER
    start = 1 if swap else 0
    examples = []
    for number, line in enumerate(lines[start:], start + 1):
        first, tab, second = line.partition("\t")
        label, expression = (second, first) if swap else (first, second)
        try:
            if not tab:
                raise DataError("expected label<TAB>expression")
            if label.strip() not in _DIGIT_TEXT:
                raise DataError(f"label {label.strip()!r} is not a digit 0-9")
            if not expression.strip():
                raise DataError("empty expression")
            value = evaluate(expression)
            if value != int(label):
                raise DataError(f"label {label.strip()} but the expression's value is {value}")
        except DataError as error:
            raise DataError(f"{path}:{number}: {error}") from None
        examples.append((int(label), expression.strip()))
    origins = [f"{path}:{number}" for number in range(start + 1, len(lines) + 1)]
    trees.check([x for _, x in examples], origins, labelled=False)
    return examples


def write(path: Path, examples: list[tuple[int, str]]) -> None:
    """Writes `label<TAB>expression` lines, the released format that `read` reads."""
    atomic.write_text(path, "".join(f"{y}\t{x}\n" for y, x in examples))


def length_and_depth(expression: str) -> tuple[int, int]:
    """An expression's length (tokens, brackets not counted) and operator depth.

    Example:
    >>> length_and_depth("( ( ( [MAX 2 ) ( ( [MIN 1 ) ] ) ) ] )")
    (6, 2)
    """
    tokens = expression.split()
    depth = deepest = 0
    for token in tokens:
        if token in APPLY:
            depth += 1
            deepest = max(deepest, depth)
        elif token == END:
            depth -= 1
    return len(tokens) - tokens.count("(") - tokens.count(")"), deepest


def stats(examples: list[tuple[int, str]]) -> dict:
    """Size, label shares (by label 0-9), token length and operator depth of a data set.

    Example:
    >>> s = stats([(9, "[MAX 2 [MED 0 1 ] 9 ]"), (2, "[MIN 2 3 ]")])
    >>> s["labels"][9], s["length_max"], s["depth_max"], s["one_operator"]
    (0.5, 8, 2, 0.5)
    """
    if not examples:
        raise ValueError("no examples")
    lengths, depths = zip(*(length_and_depth(x) for _, x in examples), strict=True)
    labels = [y for y, _ in examples]
    return {
        "examples": len(examples),
        "labels": [labels.count(k) / len(labels) for k in DIGITS],
        "length_mean": statistics.mean(lengths),
        "length_median": statistics.median(lengths),
        "length_max": max(lengths),
        "depth_mean": statistics.mean(depths),
        "depth_max": max(depths),
        "one_operator": depths.count(1) / len(depths),
    }
