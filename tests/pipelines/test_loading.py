"""Loading never runs code from a file: `.keras` only with `safe_mode=True`, no pickle."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ("common", "pipelines", "tasks", "models", "benchmarks", "tests")
SOURCES = sorted(p for d in PACKAGES for p in (ROOT / d).rglob("*.py")
                 if p != Path(__file__))  # fmt: skip


def test_the_scan_reads_every_package_and_the_loaders():
    assert {p.relative_to(ROOT).parts[0] for p in SOURCES} == set(PACKAGES)
    assert ROOT / "pipelines" / "run.py" in SOURCES  # where checkpoints are loaded


# The one reader of pickled data, with its tests: PyTorch state dicts, whose unpickler
# resolves only the names a state dict holds (tests/models/test_torch_state_dict.py).
UNPICKLER = {ROOT / "models" / "torch_state_dict.py", ROOT / "tests" / "models" /
             "test_torch_state_dict.py"}  # fmt: skip


def test_no_pickle_but_the_restricted_state_dict_reader():
    for path in SOURCES:
        text = path.read_text()
        if path in UNPICKLER:
            assert "pickle.load(" not in text and "pickle.loads(" not in text, path
            continue
        assert not re.search(r"pickle|joblib|marshal|dill", text), path


def test_every_keras_load_is_in_safe_mode():
    calls = 0
    for path in SOURCES:
        for call in re.finditer(r"load_model\(([^()]|\([^()]*\))*\)", path.read_text()):
            calls += 1
            assert "safe_mode=True" in call.group(0), f"{path}: {call.group(0)}"
    assert calls >= 2
