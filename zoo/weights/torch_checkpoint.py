"""Read PyTorch checkpoint files into numpy arrays, without importing torch.

A `.pth`/`.pt` file written by `torch.save(state_dict)` is a pickle whose tensors point at raw
storages kept outside the pickle. Two layouts exist:

* zip (torch >= 1.6): `<prefix>/data.pkl` holds the pickle and `<prefix>/data/<key>` each storage's
  raw bytes;
* legacy: five things one after another in a single stream: three small pickles (magic number,
  protocol version, system info), the main pickle, a pickle listing the storage keys, then each
  storage as an int64 element count followed by its raw bytes.

Unpickling an untrusted file would run whatever callable it names, so the unpickler here resolves
only the handful of globals a state_dict needs (the tensor-rebuilding functions, the typed storage
classes and `OrderedDict`), each onto a numpy stand-in; any other global is refused before anything
is called.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from typing import Any, BinaryIO

import numpy as np

# torch.serialization.MAGIC_NUMBER and PROTOCOL_VERSION for the legacy layout.
_LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL_VERSION = 1001


# torch's typed storage classes, by name, and the dtype of their elements.
_STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


def _numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":  # numpy has none; ml_dtypes (a TensorFlow dependency) provides it
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


class _StorageType:
    """Stands in for a class such as `torch.FloatStorage`: it only carries the element dtype."""

    def __init__(self, name: str) -> None:
        self.dtype = _numpy_dtype(_STORAGE_DTYPES[name])


class _Storage:
    """A flat buffer of `numel` elements; in the legacy layout its bytes arrive after the pickle."""

    def __init__(self, dtype: np.dtype, numel: int) -> None:
        self.dtype = dtype
        self.numel = numel
        self.data: np.ndarray | None = None

    def fill(self, raw: bytes, byteorder: str) -> None:
        expected = self.numel * self.dtype.itemsize
        if len(raw) != expected:
            raise ValueError(
                f"storage holds {len(raw)} bytes but {self.numel} elements of {self.dtype} need {expected}"
            )
        dtype = self.dtype.newbyteorder("<" if byteorder == "little" else ">")
        self.data = np.frombuffer(raw, dtype=dtype).astype(self.dtype)


class _StorageView:
    """A legacy-format view into part of a storage (`view_metadata` in torch's legacy loader)."""

    def __init__(self, base: _Storage, offset: int, numel: int) -> None:
        self.base = base
        self.offset = offset
        self.numel = numel

    @property
    def data(self) -> np.ndarray | None:
        if self.base.data is None:
            return None
        return self.base.data[self.offset : self.offset + self.numel]


class _PendingTensor:
    """A tensor whose storage bytes may not have been read yet; `resolve()` builds the array."""

    def __init__(self, storage: _Storage | _StorageView, offset: int, size: tuple, stride: tuple) -> None:
        self.storage = storage
        self.offset = offset
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)

    def resolve(self) -> np.ndarray:
        flat, offset = self.storage.data, self.offset
        if flat is None:
            raise ValueError("checkpoint refers to a storage whose bytes are missing")
        if any(n == 0 for n in self.size):
            return np.zeros(self.size, dtype=flat.dtype)
        last = offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if offset < 0 or last >= flat.size or any(s < 0 for s in self.stride):
            raise ValueError(
                f"tensor of size {self.size}, stride {self.stride} at offset {offset} "
                f"does not fit in its storage of {flat.size} elements"
            )
        view = np.lib.stride_tricks.as_strided(
            flat[offset:],
            shape=self.size,
            strides=tuple(s * flat.itemsize for s in self.stride),
            writeable=False,
        )
        return view.copy(order="C")


def _rebuild_tensor(storage, storage_offset, size, stride, *_unused) -> _PendingTensor:
    """Stands in for torch._utils._rebuild_tensor / _rebuild_tensor_v2.

    The extra v2 arguments (requires_grad, backward hooks, metadata) mean nothing for inference.
    """
    return _PendingTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *_unused) -> Any:
    """Stands in for torch._utils._rebuild_parameter: a Parameter is just its tensor here."""
    return data


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _RefusedGlobal(pickle.UnpicklingError):
    """The pickle named a global outside the allowed few; nothing it names has been called."""


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals a state_dict needs, and refuses all others."""

    def __init__(self, file: BinaryIO, load_storage) -> None:
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        raise _RefusedGlobal(
            f"checkpoint asks for the global {module}.{name}, which is not needed to rebuild "
            "tensors; refusing to load it (the file may not be a plain state_dict, or may be unsafe)"
        )

    def persistent_load(self, saved_id: Any) -> Any:
        if not isinstance(saved_id, tuple) or not saved_id:
            raise pickle.UnpicklingError(f"unexpected persistent id {saved_id!r}")
        typename = saved_id[0].decode("ascii") if isinstance(saved_id[0], bytes) else saved_id[0]
        if typename != "storage":
            raise pickle.UnpicklingError(
                f"checkpoint holds a pickled {typename!r}, not only tensors; refusing to load it"
            )
        return self._load_storage(saved_id[1:])


def _load_plain_pickle(stream: BinaryIO) -> Any:
    """One of the small header pickles of the legacy layout: plain values, no globals allowed."""

    def no_storage(_):
        raise pickle.UnpicklingError("unexpected storage reference in a checkpoint header")

    return _RestrictedUnpickler(stream, no_storage).load()


def _storage_type(storage_type: Any) -> _StorageType:
    if not isinstance(storage_type, _StorageType):
        raise pickle.UnpicklingError(f"unexpected storage type {storage_type!r}")
    return storage_type


def _read_zip(path: str) -> Any:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(f"{path}: a zip checkpoint must hold one <name>/data.pkl; found {pickles}")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = archive.read(prefix + "byteorder").decode("ascii").strip()
        storages: dict[str, _Storage] = {}

        def load_storage(args: tuple) -> _Storage:
            storage_type, key, _location, numel = args
            key = str(key)
            if key not in storages:
                storage = _Storage(_storage_type(storage_type).dtype, int(numel))
                storage.fill(archive.read(f"{prefix}data/{key}"), byteorder)
                storages[key] = storage
            return storages[key]

        with archive.open(pickles[0]) as data_pkl:
            return _RestrictedUnpickler(io.BytesIO(data_pkl.read()), load_storage).load()


def _read_legacy(path: str) -> Any:
    with open(path, "rb") as f:
        stream = io.BytesIO(f.read())
    not_a_checkpoint = f"{path}: not a PyTorch checkpoint (neither a zip archive nor the legacy magic number)"
    try:
        magic_number = _load_plain_pickle(stream)
    except _RefusedGlobal:
        raise
    except Exception as error:  # garbage makes pickle raise any of a dozen types
        raise ValueError(not_a_checkpoint) from error
    if magic_number != _LEGACY_MAGIC_NUMBER:
        raise ValueError(not_a_checkpoint)
    protocol_version = _load_plain_pickle(stream)
    if protocol_version != _LEGACY_PROTOCOL_VERSION:
        raise ValueError(f"{path}: unsupported legacy protocol version {protocol_version}")
    sys_info = _load_plain_pickle(stream)
    if not isinstance(sys_info, dict):
        raise ValueError(f"{path}: malformed legacy header (system info is a {type(sys_info).__name__})")
    byteorder = "little" if sys_info.get("little_endian", True) else "big"
    storages: dict[str, _Storage] = {}

    def load_storage(args: tuple) -> _Storage | _StorageView:
        storage_type, key, _location, numel, view_metadata = args
        key = str(key)
        if key not in storages:
            storages[key] = _Storage(_storage_type(storage_type).dtype, int(numel))
        if view_metadata is None:
            return storages[key]
        _view_key, offset, view_numel = view_metadata
        return _StorageView(storages[key], int(offset), int(view_numel))

    result = _RestrictedUnpickler(stream, load_storage).load()
    for key in _load_plain_pickle(stream):
        if str(key) not in storages:
            raise ValueError(f"{path}: raw data for storage {key}, which no tensor uses")
        storage = storages[str(key)]
        (numel,) = struct.unpack("<q" if byteorder == "little" else ">q", _read_exactly(stream, 8, path))
        if numel != storage.numel:
            raise ValueError(f"{path}: storage {key} has {numel} elements on disk, {storage.numel} in the pickle")
        storage.fill(_read_exactly(stream, numel * storage.dtype.itemsize, path), byteorder)
    return result


def _read_exactly(stream: BinaryIO, size: int, path: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ValueError(f"{path}: checkpoint is truncated (wanted {size} more bytes, found {len(data)})")
    return data


def read_torch_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a PyTorch state_dict file (zip or legacy layout) as `{name: numpy array}`.

    Arrays come back C-contiguous in torch's own layout (a conv weight stays OIHW); tensors that
    share a storage or are non-contiguous views are materialised as independent arrays.

    Raises:
        FileNotFoundError: the file does not exist.
        pickle.UnpicklingError: the pickle names a global other than the tensor-rebuilding ones.
        ValueError: the file is not a checkpoint, or does not hold a flat mapping of tensors.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file at {path}")
    loaded = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    if not isinstance(loaded, dict):
        raise ValueError(
            f"{path}: expected a state_dict (a mapping of names to tensors); found {type(loaded).__name__}"
        )
    not_tensors = [k for k, v in loaded.items() if not isinstance(v, _PendingTensor)]
    if not_tensors:
        raise ValueError(
            f"{path}: expected a state_dict of tensors only; these entries are not tensors: {not_tensors[:5]}"
        )
    return {str(name): tensor.resolve() for name, tensor in loaded.items()}
