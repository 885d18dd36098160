"""`moving_shapes`: generated clips whose label is the motion, never a single frame.

A clip shows one shape (circle or square, random colour and size) on a noisy
background. It slides right, left, up or down, or circles clockwise or
anticlockwise around a point, wrapping around the edges. Start position, size, speed
and orbit are drawn uniformly, so every single frame has the same distribution of
position and size whatever the class: only the order of frames tells them apart.

Example:
>>> clips, labels = generate(3, frames=8, size=24, seed=0)
>>> clips.shape, clips.dtype.name, labels.tolist()
((3, 8, 24, 24, 3), 'uint8', [5, 3, 3])
"""

import numpy as np

CLASSES = ("right", "left", "up", "down", "clockwise", "anticlockwise")
RADIUS = (2.5, 6.5)  # as a fraction of 32 pixels, scaled to the frame size


def _clip(rng: np.random.Generator, label: int, frames: int, size: int) -> np.ndarray:
    scale = size / 32
    x, y = rng.uniform(0, size, 2)
    radius = rng.uniform(*RADIUS) * scale
    speed = rng.uniform(1.2, 2.2) * scale
    orbit = rng.uniform(4.0, 8.0) * scale
    turn = rng.uniform(0.25, 0.4) * (1 if label == 4 else -1)  # radians per frame
    angle = rng.uniform(0, 2 * np.pi)
    colour = rng.integers(90, 256, 3)
    square = rng.random() < 0.5
    yy, xx = np.mgrid[0:size, 0:size].astype("float32")
    video = rng.integers(0, 50, (frames, size, size, 3)).astype("uint8")
    step = {0: (speed, 0), 1: (-speed, 0), 2: (0, -speed), 3: (0, speed)}.get(label, (0, 0))
    for t in range(frames):
        cx, cy = (x + step[0] * t) % size, (y + step[1] * t) % size
        if label >= 4:  # y grows downwards on screen, so +angle turns clockwise
            cx = (x + orbit * np.cos(angle + turn * t)) % size
            cy = (y + orbit * np.sin(angle + turn * t)) % size
        dx = (xx - cx + size / 2) % size - size / 2  # wrap-around distances
        dy = (yy - cy + size / 2) % size - size / 2
        inside = (
            np.maximum(abs(dx), abs(dy)) <= 0.85 * radius if square else dx**2 + dy**2 <= radius**2
        )
        video[t][inside] = colour
    return video


def generate(count: int, frames: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` clips `(count, frames, size, size, 3)` uint8 and their int labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), count)
    clips = np.stack([_clip(rng, int(label), frames, size) for label in labels])
    return clips, labels
