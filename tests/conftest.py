import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from tests.tasks.fuzz import TRIED  # noqa: E402

# Property-based tests are deterministic (the same examples on every run and machine),
# have no per-example deadline (TensorFlow calls vary in time) and store nothing. Tests
# that take `tmp_path` write each example's files into a fresh folder under it.
# `make fuzz` (FUZZ_SECONDS set) runs the same properties on fresh random examples
# instead, each again and again for its share of the time, and counts what it tried.
FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", 0))
common = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("repo", derandomize=True, max_examples=20, **common)
settings.register_profile("fuzz", derandomize=False, **common)
settings.load_profile("fuzz" if FUZZ_SECONDS else "repo")


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def pytest_collection_modifyitems(config, items):
    if FUZZ_SECONDS:  # only the properties; the time shared between them
        items[:] = [i for i in items if hasattr(getattr(i, "obj", None), "hypothesis")]
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", 1))
        config.fuzz_share = FUZZ_SECONDS * workers / max(len(items), 1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    if FUZZ_SECONDS:
        until = time.monotonic() + item.config.fuzz_share
        while time.monotonic() < until:
            item.runtest()  # a fresh seed each time: new examples
    return result


def pytest_sessionfinish(session):
    if FUZZ_SECONDS:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        folder = Path(os.environ.get("FUZZ_COUNTS", ".fuzz"))
        folder.mkdir(exist_ok=True)
        (folder / f"tried-{worker}.json").write_text(json.dumps(TRIED))
