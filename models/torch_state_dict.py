"""A PyTorch `state_dict` file read into numpy arrays, without torch and without
running anything the file names.

PyTorch saves a state dict as a pickle whose tensors point into raw storages (the
legacy format of torch < 1.6, or a zip with `data.pkl` and one file per storage). A
pickle can name any Python callable to run on load; this reader's unpickler resolves
only the few names a plain state dict holds (`collections.OrderedDict`, torch's
tensor-rebuilding functions, replaced by local stand-ins, and the `torch.*Storage`
type tags) and refuses every other one, as the Python documentation's "Restricting
Globals" recipe does. It is the only place the project unpickles anything.

Example:
>>> import io
>>> _RestrictedUnpickler(io.BytesIO(b"cos\\nsystem\\n."), {}).load()
Traceback (most recent call last):
_pickle.UnpicklingError: refusing to load global os.system
"""

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

# --------------------------------------------------------------------------------------------

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


class _StorageType:
    """Stand-in for a ``torch.<X>Storage`` class: only carries the numpy dtype."""

    def __init__(self, dtype: type) -> None:
        self.dtype = np.dtype(dtype)


class _Storage:
    """A flat typed buffer; ``data`` is filled in when the raw bytes are read."""

    def __init__(self, dtype: np.dtype, numel: int) -> None:
        self.dtype, self.numel = dtype, numel
        self.data: np.ndarray | None = None


class _TensorRef:
    """Result of ``_rebuild_tensor_v2``: a strided view on a storage, materialised later."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def to_numpy(self) -> np.ndarray:
        buf = self.storage.data
        if buf is None:
            raise ValueError("tensor storage was never read")
        if not self.size:
            return np.array(buf[self.offset])
        item = buf.itemsize
        view = np.lib.stride_tricks.as_strided(
            buf[self.offset :], shape=tuple(self.size), strides=tuple(s * item for s in self.stride)
        )
        return np.array(view)  # copy -> contiguous, owns its memory


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None
) -> _TensorRef:
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None) -> _TensorRef:
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the handful of globals a plain state dict needs."""

    def __init__(self, file: BinaryIO, storages: dict[str, _Storage], zip_reader=None) -> None:
        super().__init__(file)
        self._storages = storages
        self._zip_reader = zip_reader  # callable(key) -> bytes for the zip format

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        # legacy: ('storage', type, key, location, numel, view_metadata)
        # zip:    ('storage', type, key, location, numel)
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        storage_type, key, _location, numel = pid[1:5]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {storage_type!r}")
        key = str(key)
        if key not in self._storages:
            storage = _Storage(storage_type.dtype, int(numel))
            if self._zip_reader is not None:
                raw = self._zip_reader(key)
                storage.data = np.frombuffer(
                    raw, dtype=storage.dtype.newbyteorder("<"), count=storage.numel
                ).astype(storage.dtype)
            self._storages[key] = storage
        return self._storages[key]


def _materialise(obj: Any) -> Any:
    if isinstance(obj, _TensorRef):
        return obj.to_numpy()
    if isinstance(obj, dict):
        return OrderedDict((k, _materialise(v)) for k, v in obj.items())
    return obj


def _read_legacy(f: BinaryIO) -> Any:
    """torch < 1.6 format: magic, protocol, sys_info, object, storage keys, raw storages."""
    storages: dict[str, _Storage] = {}

    def load() -> Any:
        return _RestrictedUnpickler(f, storages).load()

    if load() != _LEGACY_MAGIC:
        raise ValueError("not a PyTorch file (bad magic number)")
    if load() != _LEGACY_PROTOCOL:
        raise ValueError("unsupported legacy PyTorch protocol version")
    sys_info = load()
    if not sys_info.get("little_endian", True):
        raise ValueError("big-endian PyTorch files are not supported")
    result = load()
    for key in load():  # storage keys, in the order their bytes follow
        storage = storages[str(key)]
        (numel,) = np.frombuffer(f.read(8), dtype="<i8")
        if numel != storage.numel:
            raise ValueError(f"storage {key}: {numel} elements on disk, {storage.numel} expected")
        nbytes = int(numel) * storage.dtype.itemsize
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise ValueError("truncated PyTorch file")
        storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<")).astype(
            storage.dtype
        )
    return result


def _read_zip(path: Path) -> Any:
    """torch >= 1.6 format: a zip with <root>/data.pkl and one <root>/data/<key> per storage."""
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise ValueError("zip archive has no unique data.pkl")
        root = pkl[0][: -len("data.pkl")]
        if f"{root}byteorder" in zf.namelist() and zf.read(f"{root}byteorder") != b"little":
            raise ValueError("big-endian PyTorch files are not supported")
        storages: dict[str, _Storage] = {}
        unpickler = _RestrictedUnpickler(
            io.BytesIO(zf.read(pkl[0])), storages, zip_reader=lambda k: zf.read(f"{root}data/{k}")
        )
        return unpickler.load()


def read_torch_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Read a PyTorch ``state_dict`` file into ``{name: numpy array}`` without torch.

    Only plain tensors in (ordered) dicts are accepted; any other pickled global raises
    ``pickle.UnpicklingError``.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        result = _read_zip(path)
    else:
        with open(path, "rb") as f:
            result = _read_legacy(f)
    result = _materialise(result)
    if not isinstance(result, dict):
        raise TypeError(f"expected a state dict, got {type(result).__name__}")
    return result
