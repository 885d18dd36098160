import re

import pytest

from common.errors import ConfigError
from pipelines import settings as config
from tasks.translate.config import PRESETS, TranslateConfig


def test_overrides_are_type_checked_and_round_trip():
    cfg = config.resolve(
        PRESETS,
        "tiny",
        ["model.units=32", "attention=luong", "train.learning_rate=0.01", "jit_compile=true"],
    )
    assert (cfg.model.units, cfg.model.attention) == (32, "luong")
    assert cfg.train.learning_rate == 0.01 and cfg.train.jit_compile is True
    assert config.from_dict(TranslateConfig, config.to_dict(cfg)) == cfg


@pytest.mark.parametrize(
    "setting,message",
    [
        ("model.unitz=3", "unknown config key 'model.unitz'; valid keys: data.source"),
        ("model.units=3.5", "model.units must be int, got '3.5'"),
        ("jit_compile=maybe", "train.jit_compile must be bool"),
        ("seed=1", "ambiguous: use one of data.seed, train.seed"),
        ("units", "--set takes key=value"),
        ("encoder=gru", "model.encoder=gru: unknown encoder 'gru'; encoders: lstm"),
        ("layers=0", "model.layers=0: model.units and model.layers must be 1 or more"),
        ("tokens=bpe", "data.tokens=bpe"),
    ],
)
def test_bad_settings_are_clear_errors(setting, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        config.resolve(PRESETS, "default", [setting])


def test_unknown_preset_lists_presets():
    with pytest.raises(ConfigError, match="presets: default, tiny"):
        config.resolve(PRESETS, "huge", [])


def test_a_preset_tuned_for_a_data_source_applies_before_the_settings():
    from tasks.classify.config import PRESETS

    plain = config.resolve(PRESETS, "default", [])
    listops = config.resolve(PRESETS, "default", ["data.source=listops"])
    assert (plain.train.epochs, listops.train.epochs) == (30, 10)
    assert config.resolve(PRESETS, "default", ["data.source=listops:x.tsv"]).train.epochs == 10
    assert config.resolve(PRESETS, "default", ["data.source=listops", "epochs=2"]).train.epochs == 2
    with pytest.raises(ConfigError, match="presets: default, sst-fine, sst-binary, tiny"):
        config.resolve(PRESETS, "default:listops", [])  # a source's tuning is not a preset
