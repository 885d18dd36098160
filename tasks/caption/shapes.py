"""`shapes`: generated scenes of coloured shapes, each with five reference captions.

A scene holds one to three shapes (circle, square, triangle), each with a colour and
a size, on a noisy dark background. The canonical caption names them left to right,
each after its relation to the one before ("left of" when they sit side by side,
"above" or "below" when stacked): "a small red circle above a big blue square". The
other references paraphrase it: longer relation words, synonyms for the sizes, a
"there is" opening, and the same chain told right to left. Nothing in a caption can
be guessed without looking: colour, shape, size and relation are all drawn at random.

Example:
>>> scenes = generate(4, size=64, seed=0)
>>> scenes[0].image.shape, scenes[0].image.dtype.name, len(scenes[0].captions)
((64, 64, 3), 'uint8', 5)
"""

import random
from typing import NamedTuple

import numpy as np

COLOURS = {
    "red": (220, 40, 40), "green": (40, 190, 60), "blue": (50, 90, 230),
    "yellow": (230, 210, 40), "purple": (160, 60, 200), "white": (235, 235, 235),
}  # fmt: skip
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 0.09, "big": 0.17}  # radius as a fraction of the image side
SIZE_SYNONYMS = {"small": "little", "big": "large"}
RELATIONS = {  # relation: (inverse, longer paraphrase)
    "left of": ("right of", "to the left of"),
    "right of": ("left of", "to the right of"),
    "above": ("below", "on top of"),
    "below": ("above", "under"),
}


class Scene(NamedTuple):
    image: np.ndarray  # (size, size, 3) uint8
    captions: list[str]  # the canonical caption first


class _Shape(NamedTuple):
    kind: str
    colour: str
    size: str
    x: float
    y: float
    radius: float


def _draw(image: np.ndarray, shape: _Shape, rng: random.Random) -> None:
    side = image.shape[0]
    yy, xx = np.mgrid[0:side, 0:side].astype("float32")
    dx, dy, r = xx - shape.x, yy - shape.y, shape.radius
    if shape.kind == "circle":
        inside = dx**2 + dy**2 <= r**2
    elif shape.kind == "square":
        inside = (np.abs(dx) <= 0.85 * r) & (np.abs(dy) <= 0.85 * r)
    else:  # an upward triangle
        inside = (dy <= r * 0.8) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.6)
    jitter = np.array([rng.randint(-25, 25) for _ in range(3)])
    image[inside] = np.clip(np.array(COLOURS[shape.colour]) + jitter, 0, 255)


def _relation(a: _Shape, b: _Shape) -> str | None:
    """Where `b` sits from `a`, or None when the layout is ambiguous."""
    dx, dy = b.x - a.x, b.y - a.y
    if abs(dx) >= 1.5 * abs(dy):
        return "right of" if dx > 0 else "left of"
    if abs(dy) >= 1.5 * abs(dx):
        return "below" if dy > 0 else "above"
    return None


def _layout(rng: random.Random, side: int) -> list[_Shape] | None:
    shapes = []
    for _ in range(rng.choice([1, 2, 2, 3])):
        size = rng.choice(sorted(SIZES))
        r = SIZES[size] * side
        x, y = rng.uniform(r + 1, side - r - 1), rng.uniform(r + 1, side - r - 1)
        if any((x - s.x) ** 2 + (y - s.y) ** 2 < (r + s.radius + 3) ** 2 for s in shapes):
            return None
        shapes.append(_Shape(rng.choice(SHAPES), rng.choice(sorted(COLOURS)), size, x, y, r))
    shapes.sort(key=lambda s: s.x)
    if any(_relation(a, b) is None for a, b in zip(shapes, shapes[1:], strict=False)):
        return None
    return shapes


def _describe(shape: _Shape, synonyms: bool = False) -> str:
    size = SIZE_SYNONYMS[shape.size] if synonyms else shape.size
    return f"a {size} {shape.colour} {shape.kind}"


def _chain(shapes: list[_Shape], long: bool = False, synonyms: bool = False) -> str:
    words = [_describe(shapes[0], synonyms)]
    for a, b in zip(shapes, shapes[1:], strict=False):
        relation = _relation(b, a)  # a, said of b: "a ... left of b ..."
        words += [RELATIONS[relation][1] if long else relation, _describe(b, synonyms)]
    return " ".join(words)


def captions(shapes: list[_Shape]) -> list[str]:
    """Five references, the canonical (left-to-right, short words) first."""
    canonical = _chain(shapes)
    return [
        canonical,
        _chain(shapes, long=True),
        _chain(shapes, synonyms=True),
        "there is " + canonical,
        _chain(shapes[::-1]),
    ]


def generate(count: int, size: int, seed: int) -> list[Scene]:
    """`count` scenes of `size` x `size` pixels, the same for the same `seed`."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    scenes = []
    while len(scenes) < count:
        shapes = _layout(rng, size)
        if shapes is None:
            continue
        image = noise.integers(0, 40, size=(size, size, 3)).astype("uint8")
        for shape in shapes:
            _draw(image, shape, rng)
        scenes.append(Scene(image, captions(shapes)))
    return scenes
