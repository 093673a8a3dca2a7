"""Image exports take encoded files too: the image_bytes signature, serving_default's choice of
input form, Classify on encoded images, refused batches, warmup and the model card's contract."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import prediction_log_pb2

from tests.support.zoo_models import tiny_model
from zoo.errors import ConfigError
from zoo.export import export_saved_model
from zoo.export.saved_model import read_model_card
from zoo.spec import DataSpec

RGB_SPEC = DataSpec(name="shapes", kind="image", task="classification", input_shape=(6, 6, 3),
                    num_outputs=3, class_names=("circle", "square", "star"))
GRAY_SPEC = DataSpec(name="digits", kind="image", task="classification", input_shape=(6, 6, 1),
                     num_outputs=3)
TABLE_SPEC = DataSpec(name="prices", kind="tabular", task="regression", input_shape=(4,), num_outputs=1)


def encoded(pixels: np.ndarray, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8).squeeze()).save(buffer, format=image_format)
    return buffer.getvalue()


def random_pixels(count: int, shape=(6, 6, 3), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, *shape)).astype(np.float32)


def signature_defs(version_dir):
    saved_model = saved_model_pb2.SavedModel.FromString((version_dir / "saved_model.pb").read_bytes())
    return saved_model.meta_graphs[0].signature_def


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The same RGB model exported twice: serving_default on pixels (v1) and on image_bytes (v2)."""
    root = tmp_path_factory.mktemp("exports")
    model = tiny_model(RGB_SPEC)
    warmup = random_pixels(3, seed=9)
    pixels = export_saved_model(model, RGB_SPEC, root, "shapes", warmup_examples=warmup)
    image_bytes = export_saved_model(model, RGB_SPEC, root, "shapes", warmup_examples=warmup,
                                     input_form="image_bytes")
    return model, pixels, image_bytes


@pytest.fixture(scope="module")
def loaded(exports):
    _, pixels, image_bytes = exports
    return tf.saved_model.load(str(pixels)).signatures, tf.saved_model.load(str(image_bytes)).signatures


def test_image_bytes_signature_answers_as_the_pixels_one_on_the_same_png(loaded):
    signatures, _ = loaded
    pixels = random_pixels(4)
    files = tf.constant([encoded(image) for image in pixels])
    from_bytes = signatures["image_bytes"](image_bytes=files)
    from_pixels = signatures["pixels"](image=tf.constant(pixels))
    np.testing.assert_allclose(from_bytes["probabilities"].numpy(), from_pixels["probabilities"].numpy(), atol=1e-6)
    np.testing.assert_array_equal(from_bytes["classes"].numpy(), from_pixels["classes"].numpy())


def test_files_of_any_size_and_format_are_decoded_and_resized_to_the_input(loaded):
    signatures, _ = loaded
    colour = np.array([10, 200, 30], np.float32)
    solid = lambda height, width: np.broadcast_to(colour, (height, width, 3))  # noqa: E731
    # A solid colour stays itself whatever the resize; PNG, BMP and GIF keep it exactly.
    files = [encoded(solid(40, 30)), encoded(solid(3, 9), "BMP"), encoded(solid(6, 6), "GIF")]
    outputs = signatures["image_bytes"](image_bytes=tf.constant(files))["probabilities"].numpy()
    expected = signatures["pixels"](image=tf.constant(solid(6, 6)[np.newaxis]))["probabilities"].numpy()
    np.testing.assert_allclose(outputs, np.repeat(expected, 3, axis=0), atol=1e-6)


def test_resizing_matches_pillows_bilinear_which_zoo_predict_uses_for_pixel_inputs(loaded):
    signatures, _ = loaded
    photo = np.random.default_rng(4).integers(0, 256, (48, 64, 3)).astype(np.uint8)
    photo = np.asarray(Image.fromarray(photo).resize((64, 48), Image.Resampling.BOX))
    pillow = np.asarray(Image.fromarray(photo).resize((6, 6), Image.Resampling.BILINEAR), np.float32)
    from_bytes = signatures["image_bytes"](image_bytes=tf.constant([encoded(photo)]))["probabilities"]
    from_pillow = signatures["pixels"](image=tf.constant(pillow[np.newaxis]))["probabilities"]
    np.testing.assert_allclose(from_bytes.numpy(), from_pillow.numpy(), atol=0.02)


def test_a_grayscale_model_decodes_colour_files_to_one_channel(tmp_path):
    version_dir = export_saved_model(tiny_model(GRAY_SPEC), GRAY_SPEC, tmp_path, "digits")
    signatures = tf.saved_model.load(str(version_dir)).signatures
    grey = np.full((9, 9, 3), 77, np.float32)
    from_bytes = signatures["image_bytes"](image_bytes=tf.constant([encoded(grey)]))["probabilities"]
    from_pixels = signatures["pixels"](image=tf.constant(np.full((1, 6, 6, 1), 77, np.float32)))["probabilities"]
    np.testing.assert_allclose(from_bytes.numpy(), from_pixels.numpy(), atol=1e-6)


def test_undecodable_files_refuse_the_whole_batch_naming_the_input_and_their_indices(loaded):
    signatures, _ = loaded
    good = encoded(random_pixels(1)[0])
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        signatures["image_bytes"](image_bytes=tf.constant([good, b"not an image", good[:40], good]))
    assert ("Input image_bytes: cannot decode the image(s) at index 1, 2 of the batch of 4 as JPEG, "
            "PNG, GIF or BMP; the whole batch is refused") in raised.value.message


def test_serving_default_takes_the_input_form_chosen_at_export_and_both_forms_stay(exports):
    _, pixels, image_bytes = exports
    for version_dir, default_input in ((pixels, "image"), (image_bytes, "image_bytes")):
        signatures = signature_defs(version_dir)
        assert {"serving_default", "pixels", "image_bytes", "classify"} <= set(signatures)
        assert list(signatures["serving_default"].inputs) == [default_input]
        image_bytes_input = signatures["image_bytes"].inputs["image_bytes"]
        assert image_bytes_input.dtype == tf.string.as_datatype_enum
        assert [dim.size for dim in image_bytes_input.tensor_shape.dim] == [-1]
        assert [dim.size for dim in signatures["pixels"].inputs["image"].tensor_shape.dim] == [-1, 6, 6, 3]


def test_classify_of_an_image_bytes_export_reads_encoded_files_from_examples(exports, loaded):
    model, _, _ = exports
    _, signatures = loaded
    pixels = random_pixels(2, seed=5)
    examples = [tf.train.Example(features=tf.train.Features(feature={
        "image_bytes": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded(image)]))
    })).SerializeToString() for image in pixels]
    outputs = signatures["classify"](inputs=tf.constant(examples))
    np.testing.assert_allclose(outputs["scores"].numpy(), model.predict(pixels, verbose=0), atol=1e-5)
    assert outputs["classes"].numpy()[1].tolist() == [b"circle", b"square", b"star"]


def test_data_that_is_not_an_image_has_no_image_bytes_signature_and_cannot_ask_for_it(tmp_path):
    model = tiny_model(TABLE_SPEC)
    version_dir = export_saved_model(model, TABLE_SPEC, tmp_path, "prices")
    assert set(signature_defs(version_dir)) - {"__saved_model_init_op"} == {"serving_default", "regress"}
    with pytest.raises(ConfigError, match=r"image_bytes needs image data .* Use pixels"):
        export_saved_model(model, TABLE_SPEC, tmp_path, "prices", input_form="image_bytes")
    assert sorted(path.name for path in (tmp_path / "prices").iterdir()) == ["1"]


def test_warmup_of_an_image_bytes_export_sends_files_that_decode(exports, loaded):
    _, _, version_dir = exports
    path = version_dir / "assets.extra" / "tf_serving_warmup_requests"
    requests = [prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
                for record in tf.data.TFRecordDataset(str(path))]
    assert [(request.model_spec.signature_name, list(request.inputs)) for request in requests] == [
        ("serving_default", ["image_bytes"])] * 2
    _, signatures = loaded
    for request in requests:
        files = tf.make_ndarray(request.inputs["image_bytes"])
        assert signatures["serving_default"](image_bytes=files)["probabilities"].shape == (len(files), 3)


def test_model_card_states_each_input_form_and_which_one_serving_default_takes(exports):
    _, _, version_dir = exports
    contract = read_model_card(version_dir)["input"]
    assert contract["serving_default"] == "image_bytes"
    assert contract["pixels"] | {"values": ""} == {"input": "image", "dtype": "float32",
                                                   "shape": [-1, 6, 6, 3], "values": ""}
    assert contract["image_bytes"]["input"] == "image_bytes"
    assert "resized to 6x6" in contract["image_bytes"]["values"]
