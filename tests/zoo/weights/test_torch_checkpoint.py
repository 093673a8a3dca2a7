"""The torch-free checkpoint reader: real files written by torch, and pickles it must refuse."""

from __future__ import annotations

import pickle
import sys
import zipfile
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from zoo.weights import read_torch_checkpoint

LITE0_DATA = Path(__file__).resolve().parents[2] / "data" / "lite0"

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_HEADER = (
    pickle.dumps(LEGACY_MAGIC_NUMBER, protocol=2)
    + pickle.dumps(1001, protocol=2)
    + pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
)


def _pickle_calling(module: str, name: str, argument: str) -> bytes:
    """A protocol-0 pickle that, if trusted, calls module.name(argument) while loading."""
    return f"c{module}\n{name}\n(S'{argument}'\ntR.".encode("ascii")


def _write_zip_checkpoint(path, data_pkl: bytes) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", "little")


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_reads_state_dict_written_by_torch_in_both_layouts(layout):
    tensors = read_torch_checkpoint(LITE0_DATA / f"tiny_state_dict_{layout}.pt")

    matrix = np.arange(24, dtype=np.float32).reshape(4, 6)
    assert list(tensors) == ["matrix", "transposed", "block", "counts", "half", "bfloat", "mask", "step"]
    np.testing.assert_array_equal(tensors["matrix"], matrix)
    np.testing.assert_array_equal(tensors["counts"], np.array([3, -1, 7], dtype=np.int64))
    assert tensors["counts"].dtype == np.int64
    assert tensors["half"].dtype == np.float16 and tensors["half"].tolist() == [0.5, -2.0]
    assert tensors["bfloat"].dtype == ml_dtypes.bfloat16 and tensors["bfloat"].astype(np.float32).tolist() == [1.5, -0.25]
    assert tensors["mask"].dtype == np.bool_ and tensors["mask"].tolist() == [True, False]
    assert tensors["step"].shape == () and int(tensors["step"]) == 5


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_views_keep_their_strides_and_storage_offset(layout):
    tensors = read_torch_checkpoint(LITE0_DATA / f"tiny_state_dict_{layout}.pt")

    matrix = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_array_equal(tensors["transposed"], matrix.T)
    np.testing.assert_array_equal(tensors["block"], matrix[1:3, 2:5])
    assert all(t.flags.c_contiguous and t.flags.writeable for t in tensors.values())


def test_reads_the_lite0_checkpoint_without_torch(lite0_checkpoint_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # any `import torch` would now fail

    tensors = read_torch_checkpoint(lite0_checkpoint_path)

    float_parameters = sum(t.size for t in tensors.values() if t.dtype == np.float32)
    counters = [name for name, t in tensors.items() if t.dtype == np.int64]
    assert len(tensors) == 296
    assert float_parameters == 4_694_024
    assert len(counters) == 49 and all(name.endswith(".num_batches_tracked") for name in counters)
    assert tensors["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert tensors["_fc.weight"].shape == (1000, 1280)


@pytest.mark.parametrize(
    ("module", "name"),
    [("posix", "system"), ("builtins", "eval"), ("torch", "load"), ("torch._utils", "_rebuild_device_tensor_from_numpy")],
)
def test_pickle_asking_for_an_unexpected_global_is_refused_before_running_it(tmp_path, module, name):
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "evil.pt"
    _write_zip_checkpoint(checkpoint, _pickle_calling(module, name, f"touch {marker}"))

    with pytest.raises(pickle.UnpicklingError, match=f"{module}.{name}"):
        read_torch_checkpoint(checkpoint)
    assert not marker.exists()


def test_legacy_checkpoint_with_an_unexpected_global_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "evil_legacy.pth"
    checkpoint.write_bytes(LEGACY_HEADER + _pickle_calling("os", "system", f"touch {marker}"))

    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        read_torch_checkpoint(checkpoint)
    assert not marker.exists()


def test_unexpected_global_in_a_legacy_header_is_refused(tmp_path):
    checkpoint = tmp_path / "evil_header.pth"
    checkpoint.write_bytes(_pickle_calling("os", "system", "true"))

    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        read_torch_checkpoint(checkpoint)


def test_file_that_is_not_a_checkpoint_is_rejected(tmp_path):
    not_a_checkpoint = tmp_path / "numbers.pth"
    not_a_checkpoint.write_bytes(pickle.dumps([1, 2, 3], protocol=2))

    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        read_torch_checkpoint(not_a_checkpoint)


def test_checkpoint_holding_more_than_tensors_is_rejected(tmp_path):
    checkpoint = tmp_path / "training_state.pt"
    _write_zip_checkpoint(checkpoint, pickle.dumps({"epoch": 3}, protocol=2))

    with pytest.raises(ValueError, match=r"not tensors: \['epoch'\]"):
        read_torch_checkpoint(checkpoint)


def test_truncated_legacy_checkpoint_is_rejected(tmp_path):
    data = (LITE0_DATA / "tiny_state_dict_legacy.pt").read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[:-10])

    with pytest.raises(ValueError, match="truncated"):
        read_torch_checkpoint(truncated)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        read_torch_checkpoint(tmp_path / "absent.pth")


def test_arbitrary_bytes_are_reported_as_not_a_checkpoint(tmp_path):
    photo = tmp_path / "photo.pth"
    photo.write_bytes(b"\xff\xd8\xff\xe0 definitely a jpeg")

    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        read_torch_checkpoint(photo)
