import gzip

import numpy as np
import pytest

from zoo.data import DataFormatError, read_idx


def test_reads_gzipped_uint8_images_with_header_shape(tmp_path, write_idx):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "images-idx3-ubyte.gz", images)
    np.testing.assert_array_equal(read_idx(path), images)


def test_reads_uncompressed_labels(tmp_path, write_idx):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = write_idx(tmp_path / "labels-idx1-ubyte", labels)
    np.testing.assert_array_equal(read_idx(path), labels)


@pytest.mark.parametrize("dtype", ["int32", "float32"])
def test_multibyte_values_come_back_in_native_byte_order(tmp_path, write_idx, dtype):
    values = np.array([[1, -2], [300000, 7]], dtype=dtype)
    result = read_idx(write_idx(tmp_path / "values.gz", values))
    assert result.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(result, values)


def test_bad_magic_number_is_rejected(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"PK\x03\x04 definitely a zip file")
    with pytest.raises(DataFormatError, match="not an IDX file"):
        read_idx(path)


def test_unknown_dtype_code_is_rejected(tmp_path):
    path = tmp_path / "odd-dtype"
    path.write_bytes(bytes([0, 0, 0x42, 1]) + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataFormatError, match="dtype code 0x42"):
        read_idx(path)


def test_truncated_file_names_expected_and_actual_sizes(tmp_path, idx_bytes):
    path = tmp_path / "truncated.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((10, 28, 28), np.uint8))[:-100]))
    with pytest.raises(DataFormatError, match=r"truncated: header says shape \(10, 28, 28\) \(7840 bytes"):
        read_idx(path)


def test_trailing_bytes_are_rejected(tmp_path, idx_bytes):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)) + b"extra")
    with pytest.raises(DataFormatError, match="trailing bytes"):
        read_idx(path)


def test_corrupt_gzip_stream_is_a_format_error(tmp_path, idx_bytes):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 50), np.uint8)))[:40])
    with pytest.raises(DataFormatError, match="corrupt gzip data"):
        read_idx(path)
