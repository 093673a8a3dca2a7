"""Shared fixtures for the dataset tests: IDX files, an empty keras cache, an unreachable host,
and the ZOO_NO_OPTIONAL_DATA mode turned off or on."""

from __future__ import annotations

import gzip
import socket
import struct

import numpy as np
import pytest

from zoo.data.optional import ENV_VAR

IDX_CODES = {np.dtype("uint8"): 0x08, np.dtype("int32"): 0x0C, np.dtype("float32"): 0x0D}


def encode_idx(array: np.ndarray) -> bytes:
    """`array` encoded as an IDX file: magic, dtype code, dimensions, big-endian values."""
    code = IDX_CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.fixture
def idx_bytes():
    """Encodes an array as the bytes of an IDX file (to write whole, or damaged)."""
    return encode_idx


@pytest.fixture
def write_idx():
    """Writes an array as an IDX file, gzipped when the name ends in .gz; returns the path."""

    def write(path, array: np.ndarray):
        data = encode_idx(np.asarray(array))
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        return path

    return write


@pytest.fixture
def empty_keras_cache(tmp_path, monkeypatch):
    """Points the keras cache at an empty folder, so nothing counts as downloaded already."""
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home / "datasets"


@pytest.fixture
def closed_port():
    """A loopback port that refuses connections: bound (so no one else takes it) but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def optional_data_searched(monkeypatch):
    """ZOO_NO_OPTIONAL_DATA unset, for tests of where the loaders look for optional data and what
    they say when it is not there: they set up those places themselves (an empty keras cache, an
    unreachable host), so they run the same in either mode."""
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def optional_data_hidden(monkeypatch):
    """ZOO_NO_OPTIONAL_DATA=1: the loaders act as on a machine without optional data."""
    monkeypatch.setenv(ENV_VAR, "1")
