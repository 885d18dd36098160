"""The PyTorch state-dict reader: tensors back, and nothing else ever run."""

import io
import pickle
import sys
import types
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from models.efficientnet_lite import build_efficientnet_lite, load_lite_weights
from models.torch_state_dict import read_torch_state_dict


def _fake_torch(monkeypatch):
    """Stand-ins named as torch's own, so that the pickle holds the globals torch writes."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2 = FloatStorage, _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return FloatStorage, _rebuild_tensor_v2


def write_state_dict(path, tensors: dict[str, np.ndarray], monkeypatch) -> None:
    """A state dict in torch's zip format (torch >= 1.6), float32, written without torch."""
    storage_type, rebuild = _fake_torch(monkeypatch)

    class Storage:
        def __init__(self, key: str, size: int):
            self.key, self.size = key, size

    class Tensor:
        def __init__(self, key: str, array: np.ndarray):
            array = np.ascontiguousarray(array)  # as its bytes are written
            self.storage, self.shape = Storage(key, array.size), array.shape
            self.strides = tuple(s // array.itemsize for s in array.strides)

        def __reduce__(self):
            return rebuild, (self.storage, 0, self.shape, self.strides, False, OrderedDict())

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", storage_type, obj.key, "cpu", obj.size)
            return None

    state = OrderedDict((name, Tensor(str(i), a)) for i, (name, a) in enumerate(tensors.items()))
    data = io.BytesIO()
    Pickler(data, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", data.getvalue())
        archive.writestr("archive/byteorder", "little")
        for i, array in enumerate(tensors.values()):
            archive.writestr(f"archive/data/{i}", np.ascontiguousarray(array, "<f4").tobytes())


def test_a_written_state_dict_reads_back(tmp_path, monkeypatch):
    tensors = {"a.weight": np.arange(6, dtype="float32").reshape(2, 3), "b": np.ones(4, "float32")}
    write_state_dict(tmp_path / "tiny.pth", tensors, monkeypatch)
    got = read_torch_state_dict(tmp_path / "tiny.pth")
    assert list(got) == list(tensors)
    for name, array in tensors.items():
        np.testing.assert_array_equal(got[name], array)


def test_a_file_that_names_any_other_global_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    with zipfile.ZipFile(tmp_path / "evil.pth", "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": Payload()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global .*print"):
        read_torch_state_dict(tmp_path / "evil.pth")


def test_efficientnet_loads_a_state_dict_in_the_torch_layout(tmp_path, monkeypatch):
    """Keras weights -> torch names and layouts -> a file -> the same Keras weights."""
    source = build_efficientnet_lite("lite0", include_top=True)
    tensors = {}
    for layer in source.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        module = _torch_module(layer.name)
        kind = type(layer).__name__
        if kind == "DepthwiseConv2D":
            tensors[f"{module}.weight"] = weights[0].transpose(2, 3, 0, 1)
        elif kind == "Conv2D":
            tensors[f"{module}.weight"] = weights[0].transpose(3, 2, 0, 1)
        elif kind == "Dense":
            tensors[f"{module}.weight"], tensors[f"{module}.bias"] = weights[0].T, weights[1]
        else:  # BatchNormalization
            for name, value in zip(("weight", "bias", "running_mean", "running_var"), weights,
                                   strict=True):  # fmt: skip
                tensors[f"{module}.{name}"] = value + np.float32(len(tensors))  # distinct
    write_state_dict(tmp_path / "lite0.pth", tensors, monkeypatch)
    target = build_efficientnet_lite("lite0", include_top=True)
    load_lite_weights(target, tmp_path / "lite0.pth")
    for a, b in zip(target.get_weights(), source.get_weights(), strict=True):
        assert a.shape == b.shape
    np.testing.assert_array_equal(target.get_layer("stem_conv").get_weights()[0],
                                  source.get_layer("stem_conv").get_weights()[0])  # fmt: skip
    names = [n for n in tensors if n.startswith("_blocks.3._bn1.")]
    np.testing.assert_array_equal(target.get_layer("block3_dw_bn").get_weights()[0],
                                  tensors[names[0]])  # fmt: skip


def _torch_module(keras_name: str) -> str:
    """`block3_dw_bn` -> `_blocks.3._bn1` (the inverse of the loader's naming)."""
    top = {"stem_conv": "_conv_stem", "stem_bn": "_bn0", "head_conv": "_conv_head",
           "head_bn": "_bn1", "predictions": "_fc"}  # fmt: skip
    if keras_name in top:
        return top[keras_name]
    block, _, part = keras_name.partition("_")
    parts = {"expand_conv": "_expand_conv", "expand_bn": "_bn0", "dwconv": "_depthwise_conv",
             "dw_bn": "_bn1", "project_conv": "_project_conv", "project_bn": "_bn2"}  # fmt: skip
    return f"_blocks.{block.removeprefix('block')}.{parts[part]}"
