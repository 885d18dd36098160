"""Resolving a task's frozen config dataclass: presets, `--set` overrides, JSON.

Every value is checked when the config is made (types here, ranges and choices by
the dataclasses themselves), so a bad one is refused before anything is written.
"""

import dataclasses
import typing

from common.errors import ConfigError


def leaf_keys(cfg, prefix: str = "") -> list[str]:
    """Dotted names of every settable field, e.g. `["data.source", ...]`."""
    keys = []
    for field in dataclasses.fields(cfg):
        value = getattr(cfg, field.name)
        name = prefix + field.name
        keys += leaf_keys(value, name + ".") if dataclasses.is_dataclass(value) else [name]
    return keys


def _full_key(cfg, key: str) -> str:
    keys = leaf_keys(cfg)
    if key in keys:
        return key
    matches = [k for k in keys if k.rsplit(".", 1)[-1] == key]  # a unique short name
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(f"config key {key!r} is ambiguous: use one of {', '.join(matches)}")
    raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(keys)}")


def _parse(text: str, kind, key: str):
    try:
        if typing.get_origin(kind) is tuple:  # tuple[int, ...] from "32,64,128"
            item = typing.get_args(kind)[0]
            return tuple(item(part) for part in text.split(","))
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        return kind(text)
    except ValueError:
        name = getattr(kind, "__name__", None) if typing.get_origin(kind) is None else str(kind)
        raise ConfigError(f"{key} must be {name}, got {text!r}") from None


def override(cfg, key: str, value: str):
    """A copy of `cfg` with the field at dotted (or unique short) `key` parsed from text.

    Example:
    >>> from common.config import TrainConfig
    >>> override(TrainConfig(), "epochs", "3").epochs
    3
    """
    full = _full_key(cfg, key)
    return _replace(cfg, full.split("."), value, full)


def _replace(cfg, path: list[str], value: str, full: str):
    head, *rest = path
    if rest:
        return dataclasses.replace(cfg, **{head: _replace(getattr(cfg, head), rest, value, full)})
    kind = typing.get_type_hints(type(cfg))[head]
    try:
        return dataclasses.replace(cfg, **{head: _parse(value, kind, full)})
    except ValueError as err:  # a choice or range the dataclass checks
        raise ConfigError(f"{full}={value}: {err}") from None


def resolve(presets: dict, preset: str, settings: list[str]):
    """The preset with `key=value` settings applied in order.

    A preset is a config, or a list of `key=value` settings on top of `default` (a
    named variant, e.g. `sst-binary`). A task may tune a preset for one kind of data
    source: `presets["default:listops"]` is a list of `key=value` settings that apply,
    before `settings`, whenever the resolved `data.source` is `listops` (or
    `listops:PATH`).

    Example:
    >>> from tasks.classify.config import PRESETS
    >>> resolve(PRESETS, "default", ["data.source=listops", "patience=9"]).train.patience
    9
    >>> resolve(PRESETS, "sst-binary", ["data.source=sst:DIR"]).trees.sst_mode
    'binary'
    """
    if preset not in presets or ":" in preset:
        names = [name for name in presets if ":" not in name]
        raise ConfigError(f"unknown preset {preset!r}; presets: {', '.join(names)}")
    base = presets[preset]
    if isinstance(base, list):
        base = _apply(presets["default"], base)
    cfg = _apply(base, settings)
    kind = cfg.data.source.partition(":")[0]
    tuned = presets.get(f"{preset}:{kind}")
    return _apply(_apply(base, tuned), settings) if tuned else cfg


def _apply(cfg, settings: list[str]):
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value, got {setting!r}")
        cfg = override(cfg, key.strip(), value.strip())
    return cfg


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)


def from_dict(cls: type, values: dict):
    """Rebuilds a config dataclass from `to_dict` output, rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    unknown = set(values) - set(hints)
    if unknown:
        raise ConfigError(f"unknown config keys {sorted(unknown)} for {cls.__name__}")
    return cls(**{k: _from_json(hints[k], v) for k, v in values.items()})


def _from_json(kind, value):
    if dataclasses.is_dataclass(kind):
        return from_dict(kind, value)
    return tuple(value) if typing.get_origin(kind) is tuple else value
