"""Shared pieces of the property-based (hypothesis) tests of parsers and serving.

Strategies for hostile input, a fresh folder per example, the check that a reader's
`DataError` names the file (and line), and tiny untrained exports of every task.
The hypothesis profile (deterministic, no deadline) is set in `tests/conftest.py`.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import strategies as st

from common.errors import DataError
from pipelines import run
from pipelines import settings as settings_module
from tasks import get_task

HUGE = 2**20  # bytes in a "huge" string

# Text a data file may hold: any code point but surrogates, with brackets, tabs,
# commas, quotes, line breaks of every kind and Unicode spaces made likely.
SPECIAL = "()[]\t,;\"'\r\n\v\f\x00\x1c\x85\xa0\u2028\ufeff#/."
TRIED: dict[str, int] = {}  # entry point -> examples tried (counted for `make fuzz`)


def tried(entry: str) -> None:
    """Counts one example given to `entry` (a parser or a serving signature)."""
    TRIED[entry] = TRIED.get(entry, 0) + 1


text = st.text(st.characters(exclude_categories=["Cs"]) | st.sampled_from(SPECIAL), max_size=60)


# A word of a bracketed tree: no ASCII space or bracket, other odd characters likely.
WORD = st.text(st.characters(exclude_categories=["Cs", "Zs", "Zl", "Zp", "Cc"])
               | st.sampled_from("\xa0\x85\x1c[]#"), min_size=1, max_size=6).filter(
    lambda w: not re.search(r"[()\s]", w, re.ASCII))  # fmt: skip
GAP = st.sampled_from([" ", "  ", "\t", "\n", " \r\n "])


@st.composite
def tree(draw, labelled: bool, labels=WORD, depth: int = 0) -> tuple[str, list[str], int, bool]:
    """A well-formed tree: its text, its words, its node count as the parser numbers
    them, and whether it is a bare word. Labelled words sit in `(label word)`; an
    unlabelled `( word )` is the word itself."""
    label = draw(labels) + draw(GAP) if labelled else ""
    if depth >= 4 or draw(st.integers(0, 2)) == 0:
        word = draw(WORD)
        return (f"({label}{word})" if labelled else word), [word], 1, not labelled
    parts = [draw(tree(labelled, labels, depth + 1)) for _ in range(draw(st.integers(1, 3)))]
    inside = draw(GAP).join(p[0] for p in parts)
    words = [w for p in parts for w in p[1]]
    nodes = 1 if len(parts) == 1 and parts[0][3] else 1 + sum(p[2] for p in parts)
    return f"({draw(GAP)}{label}{inside}{draw(GAP)})", words, nodes, False


@st.composite
def huge(draw) -> bytes:
    """About a megabyte: a short random piece repeated."""
    piece = draw(st.binary(min_size=1, max_size=8))
    return piece * (HUGE // len(piece))


# Raw bytes for a string input: binary noise, text (UTF-8 or not), or a megabyte.
raw_bytes = st.one_of(
    st.binary(max_size=80),
    text.map(lambda s: s.encode("utf-8")),
    text.map(lambda s: s.encode("utf-16")),  # NUL bytes, a BOM, not UTF-8
    huge(),
)


# Long and deeply nested strings, valid and not, beside short noise.
deep = st.integers(1, 4000).flatmap(lambda n: st.sampled_from([
    "( " * n + "x" + " )" * n, "(1 " * n + "x" + ")" * n, "( " * n + "x", "x )" * n,
]))  # fmt: skip
tree_bytes = raw_bytes | deep.map(str.encode)


def tree_reference(row: bytes, labelled: bool, arity: int | None, max_tokens: int):
    """The leaves of a well-formed tree, or None: a plain stack reader of the grammar
    `tree := word | "(" [label] tree+ ")"` (a label is any word; ASCII white space)."""
    tokens = re.sub(rb"([()])", rb" \1 ", row).split()
    if not tokens or len(tokens) > max_tokens:
        return None
    open_nodes, leaves, tops, i = [], [], 0, 0
    while i < len(tokens):
        token = tokens[i]
        if token == b"(":
            if labelled and (i + 1 == len(tokens) or tokens[i + 1] in (b"(", b")")):
                return None  # a node without a label
            i += 2 if labelled else 1
            open_nodes.append(0)  # its children so far
            continue
        if token == b")":
            if not open_nodes or not open_nodes[-1] or (arity and open_nodes[-1] > arity):
                return None  # unbalanced, "()", or too many children
            open_nodes.pop()
        else:
            leaves.append(token)
        if open_nodes:
            open_nodes[-1] += 1
        else:
            tops += 1
        i += 1
    return leaves if tops == 1 and not open_nodes else None


def fresh_folder(tmp_path: Path) -> Path:
    """A new empty folder under `tmp_path`, one per hypothesis example; the previous
    examples' are removed, so that a long `make fuzz` keeps one example's files (up
    to a few megabytes), not every one's."""
    for old in tmp_path.glob("example-*"):
        shutil.rmtree(old)
    return Path(tempfile.mkdtemp(prefix="example-", dir=tmp_path))


def read_or_error(read, *paths: Path) -> tuple[object, int | None]:
    """Runs `read()`: `(result, None)`, or `(None, line)` when it raised a `DataError`
    whose message starts with one of `paths`; `line` is the number after `path:`, 0
    when the message names no line. Any other exception fails the test."""
    try:
        return read(), None
    except DataError as err:
        message = str(err)
        path = next((str(p) for p in paths if message.startswith(str(p))), None)
        assert path, message
        line = re.match(r":(\d+): ", message[len(path) :])
        return None, int(line.group(1)) if line else 0


def export_tiny(task: str, settings: list[str], folder: Path) -> Path:
    """Builds the tiny preset's UNTRAINED model (with its real data pipeline and
    vocabularies), exports it to `folder/export` and returns that path."""
    cls = get_task(task)
    job = cls(settings_module.resolve(cls.presets, "tiny", settings), folder)
    job.prepare()
    return run.export(folder, folder / "export", job, job.build_model())


def export_kinds(task: str, kinds: dict[str, list[str]], folder: Path) -> dict[str, Path]:
    """`export_tiny` once per input kind (name -> settings): name -> export folder."""
    return {kind: export_tiny(task, settings, folder / kind) for kind, settings in kinds.items()}


def refused(fn, **inputs) -> None:
    """`fn(**inputs)` with a wrong dtype, rank, size or name is refused at the signature's
    boundary: a `TypeError`, or an `InvalidArgumentError` naming what was expected."""
    with pytest.raises((TypeError, tf.errors.InvalidArgumentError)) as caught:
        fn(**inputs)
    if caught.type is not TypeError:
        assert re.search(r"expected to be a \w+ tensor|expected shape", str(caught.value))


RELOAD = """
import importlib, json, pathlib, sys
import numpy as np, tensorflow as tf
meta = json.loads((pathlib.Path(sys.argv[1]) / "pipeline.json").read_text())
for module in meta["imports"]:  # as the export's README.txt says
    importlib.import_module(module)
fn = tf.saved_model.load(sys.argv[1]).signatures[sys.argv[2]]
name = next(iter(fn.structured_input_signature[1]))
for batch in json.load(open(sys.argv[3])):  # strings as latin-1 code points
    value = (tf.constant([s.encode("latin-1") for s in batch["strings"]], tf.string)
             if "strings" in batch else
             tf.constant(np.reshape(np.array(batch["array"], batch["dtype"]), batch["shape"])))
    out = fn(**{name: value})
    print(json.dumps({k: v.numpy().tolist() if v.dtype == tf.bool else v.shape.as_list()
                      for k, v in out.items()}))
"""


def serve_in_fresh_process(export: Path, name: str, batches: list, folder: Path) -> list[dict]:
    """Calls signature `name` on each batch in turn in a new `python -I` process (the
    project not importable), as a server would, and returns each output's shape (a
    boolean output's values). The process must get through them all: a crash fails
    the test."""
    records = [  # a list of bytes, or a numeric array, as JSON
        {"strings": [b.decode("latin-1") for b in batch]} if isinstance(batch, list)
        else {"array": np.ravel(batch).tolist(), "dtype": str(np.asarray(batch).dtype),
              "shape": list(np.shape(batch))}
        for batch in batches
    ]  # fmt: skip
    (folder / "batches.json").write_text(json.dumps(records))
    out = subprocess.run(
        [sys.executable, "-I", "-c", RELOAD, str(export), name, str(folder / "batches.json")],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return [json.loads(line) for line in out.stdout.splitlines()[-len(batches) :]]
