"""Reading images, .npy, CSV and JSON files into inputs shaped as a signature says."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from tfzoo_client.input_files import InputFileError, read_input
from tfzoo_client.metadata import SignatureInfo, TensorInfo


def signature(*inputs: TensorInfo) -> SignatureInfo:
    return SignatureInfo("serving_default", "tensorflow/serving/predict", {i.name: i for i in inputs}, {})


GRAY_8X8 = signature(TensorInfo("image", "float32", "DT_FLOAT", (None, 8, 8, 1)))
RGB_ANY_SIZE = signature(TensorInfo("image", "uint8", "DT_UINT8", (None, None, None, 3)))
IMAGE_BYTES = signature(TensorInfo("image_bytes", "string", "DT_STRING", (None,)))
TABULAR = signature(TensorInfo("features", "float32", "DT_FLOAT", (None, 4)))
WINDOW = signature(TensorInfo("window", "float32", "DT_FLOAT", (None, 2, 2)))
TEXT = signature(TensorInfo("text", "string", "DT_STRING", (None,)))
TWO_INPUTS = signature(TensorInfo("a", "float32", "DT_FLOAT", (None,)), TensorInfo("b", "int64", "DT_INT64", (None,)))


def write_png(path, size=(20, 10), color=(255, 0, 0)):
    Image.new("RGB", size, color).save(path)
    return str(path)


def test_png_is_decoded_converted_to_gray_and_resized_to_the_input(tmp_path):
    batch = read_input(write_png(tmp_path / "red.png"), GRAY_8X8)
    assert batch.count == 1
    assert batch.inputs.shape == (1, 8, 8, 1) and batch.inputs.dtype == np.float32
    assert batch.inputs[0, 0, 0, 0] == 76  # ITU-R 601 luma of pure red, raw 0-255 pixels


def test_jpeg_keeps_its_size_when_the_input_size_is_unknown(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (12, 6), (0, 0, 255)).save(path, format="JPEG")
    batch = read_input(str(path), RGB_ANY_SIZE)
    assert batch.inputs.shape == (1, 6, 12, 3) and batch.inputs.dtype == np.uint8


def test_string_input_gets_the_encoded_image_bytes(tmp_path):
    path = write_png(tmp_path / "red.png")
    batch = read_input(path, IMAGE_BYTES)
    assert batch.inputs.tolist() == [open(path, "rb").read()]


def test_undecodable_image_names_the_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"not a png")
    with pytest.raises(InputFileError, match="broken.png: not an image"):
        read_input(str(path), GRAY_8X8)


def test_npy_of_one_example_gets_a_batch_dimension(tmp_path):
    np.save(tmp_path / "one.npy", np.ones((8, 8, 1), np.float32))
    np.save(tmp_path / "three.npy", np.ones((3, 8, 8, 1), np.float32))
    assert read_input(str(tmp_path / "one.npy"), GRAY_8X8).inputs.shape == (1, 8, 8, 1)
    batch = read_input(str(tmp_path / "three.npy"), GRAY_8X8)
    assert batch.inputs.shape == (3, 8, 8, 1) and batch.count == 3


def test_csv_rows_are_examples_and_a_header_is_skipped(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("a,b,c,d\n1,2,3,4\n0.1,0.2,0.3,0.4\n")
    batch = read_input(str(path), TABULAR)
    assert batch.count == 2 and batch.inputs.dtype == np.float32
    np.testing.assert_array_equal(batch.inputs[1], np.array([0.1, 0.2, 0.3, 0.4], np.float32))


def test_csv_rows_are_reshaped_to_the_example_shape(tmp_path):
    path = tmp_path / "windows.csv"
    path.write_text("1,2,3,4\n5,6,7,8\n")
    assert read_input(str(path), WINDOW).inputs.shape == (2, 2, 2)


def test_csv_row_of_the_wrong_width_says_what_the_input_takes(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("1,2,3\n")
    with pytest.raises(InputFileError, match=r"rows have 3 values.*shape \[4\] \(4 values\)"):
        read_input(str(path), TABULAR)


def test_csv_for_a_text_input_gives_one_string_per_row(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text('"hello, world"\nbye\n')
    assert read_input(str(path), TEXT).inputs.tolist() == ["hello, world", "bye"]


def test_json_list_instances_and_inputs_forms_from_stdin():
    assert read_input("-", TABULAR, stdin=io.StringIO("[[1,2,3,4]]")).inputs == [[1, 2, 3, 4]]
    rows = read_input("-", TWO_INPUTS, stdin=io.StringIO(json.dumps({"instances": [{"a": 1.5, "b": 2}, {"a": 0, "b": 3}]})))
    assert rows.inputs == {"a": [1.5, 0], "b": [2, 3]} and rows.count == 2
    columns = read_input("-", TWO_INPUTS, stdin=io.StringIO(json.dumps({"inputs": {"a": [1.0], "b": [1]}})))
    assert columns.inputs == {"a": [1.0], "b": [1]} and columns.count == 1


def test_json_b64_values_become_bytes():
    body = json.dumps({"instances": [{"b64": "AGJpbgA="}]})
    assert read_input("-", TEXT, stdin=io.StringIO(body)).inputs == [b"\x00bin\x00"]


def test_json_instance_with_wrong_keys_names_the_signatures_inputs():
    body = json.dumps({"instances": [{"a": 1.0}]})
    with pytest.raises(InputFileError, match=r"instance 0 has keys \['a'\].*\['a', 'b'\]"):
        read_input("-", TWO_INPUTS, stdin=io.StringIO(body))


def test_a_file_for_a_multi_input_signature_points_to_json(tmp_path):
    np.save(tmp_path / "x.npy", np.ones(3))
    with pytest.raises(InputFileError, match="takes 2 inputs"):
        read_input(str(tmp_path / "x.npy"), TWO_INPUTS)


def test_missing_and_unknown_files_are_named(tmp_path):
    with pytest.raises(InputFileError, match="nope.png: no such file"):
        read_input(str(tmp_path / "nope.png"), GRAY_8X8)
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(InputFileError, match=r"notes.txt: unknown kind of file; INPUT is an image"):
        read_input(str(tmp_path / "notes.txt"), GRAY_8X8)
