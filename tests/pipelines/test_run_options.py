import keras
import pytest

from pipelines import cli, run


def test_mixed_precision_is_bfloat16_on_a_cpu_and_restored_after():
    assert run.mixed_policy() == "mixed_bfloat16"  # the test machines have no GPU
    with run.precision(True):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
        assert keras.layers.Dense(2).compute_dtype == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], []),
        (["--mixed-precision"], ["train.mixed_precision=true"]),
        (["--jit-compile", "--mixed-precision"],
         ["train.mixed_precision=true", "train.jit_compile=true"]),
    ],
)  # fmt: skip
def test_cli_switches_become_train_settings(monkeypatch, flags, expected):
    seen = {}
    monkeypatch.setattr(run, "train", lambda *args: seen.setdefault("args", args))
    cli.main(["train", "--task", "translate", "--set", "units=8", *flags])
    task, data, preset, settings, workdir, epochs, strategy = seen["args"]
    assert settings == ["units=8", *expected]
    assert strategy == "default"
    config = run.resolve_config(task, data, preset, settings, epochs)
    assert config.train.mixed_precision == ("--mixed-precision" in flags)
    assert config.train.jit_compile == ("--jit-compile" in flags)
