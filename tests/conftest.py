import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Property-based tests are deterministic (the same examples on every run and machine),
# have no per-example deadline (TensorFlow calls vary in time) and store nothing. Tests
# that take `tmp_path` write each example's files into a fresh folder under it.
settings.register_profile(
    "repo",
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=20,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("repo")


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
