"""A request just over each serving limit gets a defined answer, in bounded memory.

Each export runs in a fresh process (as a server would); the process reads its own
peak resident memory (`VmHWM`) after a warm-up request and again after the hostile
one, so the growth is what the request cost.
"""

import io
import json
import subprocess
import sys

import pytest
from PIL import Image

from tests.tasks.caption.test_fuzz_serving import lying_png
from tests.tasks.fuzz import export_tiny

pytestmark = pytest.mark.slow  # exports served in fresh processes: `make test-all`

REQUEST = """
import importlib, json, pathlib, sys
import tensorflow as tf
export, name, warm, hostile = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
for module in json.loads((pathlib.Path(export) / "pipeline.json").read_text())["imports"]:
    importlib.import_module(module)
fn = tf.saved_model.load(export).signatures["serving_default"]

def peak():
    status = pathlib.Path("/proc/self/status").read_text()
    return int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) // 1024

def batch(path):
    rows = json.loads(pathlib.Path(path).read_text())
    return tf.constant([bytes.fromhex(r) for r in rows])

fn(**{name: batch(warm)})
before = peak()
out = fn(**{name: batch(hostile)})
print(json.dumps({"grew_mb": peak() - before, "valid": out["valid"].numpy().tolist()
                  if "valid" in out else None,
                  "lengths": [len(t) for t in out["translation"].numpy()]
                  if "translation" in out else None}))
"""
BOUND_MB = 400  # a request over a limit may cost this much at most


def _request(export, name: str, warm: list[bytes], hostile: list[bytes], tmp_path) -> dict:
    for file, rows in (("warm.json", warm), ("hostile.json", hostile)):
        (tmp_path / file).write_text(json.dumps([r.hex() for r in rows]))
    out = subprocess.run(
        [sys.executable, "-I", "-c", REQUEST, str(export), name, str(tmp_path / "warm.json"),
         str(tmp_path / "hostile.json")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    return {
        "caption": export_tiny("caption", [], folder / "caption"),
        "trees": export_tiny("classify", ["data.source=listops", "encoder=treelstm"],
                             folder / "trees"),
        "translate": export_tiny("translate", [], folder / "translate"),
    }  # fmt: skip


def test_an_image_over_the_pixel_limit_is_refused_unread(exports, tmp_path):
    """A 1.5 MB PNG of 23170 x 23170 would decode to 1.6 GB."""
    small = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(small, "PNG")
    small = small.getvalue()
    out = _request(exports["caption"], "images", [small], [lying_png(23170, 23170), small],
                   tmp_path)  # fmt: skip
    assert out["valid"] == [False, True] and out["grew_mb"] < BOUND_MB, out


def test_one_long_tree_among_many_short_ones_costs_a_bounded_batch(exports, tmp_path):
    """10,000 short rows and one of 18,004 tokens (each under the per-tree limit):
    padded, that would be 180 million cells; the long row is refused instead."""
    long = "( " * 6001 + "[MAX " + " ) ".join(["3"] * 6000) + " ) ] )"  # 18,004 tokens
    rows = [b"( ( ( [MAX 1 ) 2 ) ] )"] * 10_000 + [long.encode()]
    out = _request(exports["trees"], "trees", rows[:2], rows, tmp_path)
    assert out["valid"] == [True] * 10_000 + [False] and out["grew_mb"] < BOUND_MB, out["grew_mb"]


def test_a_sentence_of_a_million_characters_is_truncated(exports, tmp_path):
    out = _request(exports["translate"], "sentences", [b"the dog"],
                   [b"the dog " * 125_000, b"the dog"], tmp_path)  # fmt: skip
    assert len(out["lengths"]) == 2 and out["grew_mb"] < BOUND_MB, out
