"""model.tflite next to the SavedModel: the exporter, its checks, and `zoo train --export-tflite`."""

import json
import logging
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.cli.main import main
from zoo.errors import ConfigError
from zoo.export import export_saved_model
from zoo.export.saved_model import read_model_card
from zoo.export.tflite import TFLITE_FILE, TfliteConversionError, write_tflite_model
from zoo.models import build_model
from zoo.spec import DataSpec
from zoo.train import TrainConfig

IMAGE_SPEC = DataSpec(name="tiny", kind="image", task="classification", input_shape=(6, 6, 1),
                      num_outputs=3, class_names=("cat", "dog", "fox"))
REGRESSION_SPEC = DataSpec(name="tiny_reg", kind="tabular", task="regression", input_shape=(5,),
                           num_outputs=1)
SEQUENCE_SPEC = DataSpec(name="tiny_seq", kind="timeseries", task="regression", input_shape=(6, 2),
                         num_outputs=1)


def images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (count, *IMAGE_SPEC.input_shape)).astype(np.float32)


def tflite_runner(version_dir, signature: str = "serving_default"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tf.lite.Interpreter's LiteRT notice
        interpreter = tf.lite.Interpreter(model_path=str(version_dir / TFLITE_FILE))
    return interpreter.get_signature_runner(signature)


def tiny_regressor() -> keras.Model:
    keras.utils.set_random_seed(3)
    inputs = keras.Input(REGRESSION_SPEC.input_shape, name=REGRESSION_SPEC.input_name)
    return keras.Model(inputs, keras.layers.Dense(1, name="values")(keras.layers.Dense(4)(inputs)))


@pytest.fixture(scope="module")
def classifier_export(tmp_path_factory):
    """The zoo cnn (batch norm and dropout included), exported with model.tflite."""
    keras.utils.set_random_seed(1)
    model = build_model("cnn", IMAGE_SPEC, {"filters": [4], "dense_units": 8}, adapt_data=images(16))
    version_dir = export_saved_model(model, IMAGE_SPEC, tmp_path_factory.mktemp("export"), "tiny",
                                     warmup_examples=images(4, seed=1), tflite=True)
    return model, version_dir


def test_tflite_model_is_written_into_the_version_directory(classifier_export):
    _, version_dir = classifier_export
    assert version_dir.name == "1"
    assert (version_dir / TFLITE_FILE).stat().st_size > 0
    assert (version_dir / "saved_model.pb").exists()
    assert not [path for path in version_dir.parent.iterdir() if path.name.startswith(".export")]


def test_tflite_serving_default_answers_like_the_keras_model(classifier_export):
    model, version_dir = classifier_export
    x = images(5, seed=2)
    outputs = tflite_runner(version_dir)(image=x)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-5)
    np.testing.assert_array_equal(outputs["classes"], np.argmax(expected, axis=-1))


def test_tflite_keeps_the_predict_signature_and_accepts_any_batch_size(classifier_export):
    _, version_dir = classifier_export
    runner = tflite_runner(version_dir)
    assert list(runner.get_input_details()["image"]["shape_signature"]) == [-1, 6, 6, 1]
    for size in (1, 3):
        assert runner(image=images(size))["probabilities"].shape == (size, 3)


def test_model_card_lists_the_tflite_signatures_and_why_classify_and_image_bytes_are_left_out(
        classifier_export):
    _, version_dir = classifier_export
    entry = read_model_card(version_dir)["tflite"]
    assert entry["file"] == TFLITE_FILE
    assert entry["size_bytes"] == (version_dir / TFLITE_FILE).stat().st_size
    assert entry["signatures"] == ["pixels", "serving_default"]
    assert "tf.Example" in entry["skipped_signatures"]["classify"]
    assert "DecodeImage" in entry["skipped_signatures"]["image_bytes"]
    assert entry["max_abs_difference_vs_saved_model"] < 1e-4


def test_export_without_tflite_writes_none_and_write_tflite_model_adds_it_later(tmp_path):
    version_dir = export_saved_model(tiny_regressor(), REGRESSION_SPEC, tmp_path, "reg")
    assert not (version_dir / TFLITE_FILE).exists()
    assert "tflite" not in read_model_card(version_dir)

    written = write_tflite_model(version_dir, REGRESSION_SPEC)
    assert written.path == version_dir / TFLITE_FILE
    assert written.signatures == ("serving_default",)
    assert set(written.skipped_signatures) == {"regress"}
    x = np.random.default_rng(4).normal(size=(3, 5)).astype(np.float32)
    reference = tf.saved_model.load(str(version_dir)).signatures["serving_default"](features=tf.constant(x))
    np.testing.assert_allclose(tflite_runner(version_dir)(features=x)["values"],
                               reference["values"].numpy(), atol=1e-5)


def test_unconvertible_model_is_exported_without_tflite_and_the_card_says_why(tmp_path, caplog):
    model = build_model("lstm", SEQUENCE_SPEC, {"units": 4}, adapt_data=np.ones((2, 6, 2), np.float32))
    with caplog.at_level(logging.WARNING, logger="zoo.export.tflite"):
        version_dir = export_saved_model(model, SEQUENCE_SPEC, tmp_path, "seq", tflite=True)
    assert (version_dir / "saved_model.pb").exists()
    assert not (version_dir / TFLITE_FILE).exists()
    error = read_model_card(version_dir)["tflite"]["error"]
    assert "recurrent loop" in error and "\n" not in error
    assert f"no {TFLITE_FILE} written" in caplog.text


def test_conversion_that_answers_differently_from_the_saved_model_is_refused(tmp_path):
    # A Keras 3 model saved without tracking the tf.Variables its signature captured: the TF Lite
    # converter then reads uninitialised weights (what zoo.export itself avoids).
    model = tiny_regressor()
    module = tf.Module()
    module.model = model
    serve = tf.function(lambda features: {"values": model(features)},
                        input_signature=[tf.TensorSpec([None, 5], tf.float32, name="features")])
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": serve.get_concrete_function()})
    with pytest.raises(TfliteConversionError, match="TF Lite's serving_default"):
        write_tflite_model(tmp_path, REGRESSION_SPEC)
    assert not (tmp_path / TFLITE_FILE).exists()


def test_export_tflite_needs_an_export_base():
    with pytest.raises(ConfigError, match="export_tflite needs export_base"):
        TrainConfig(model="mlp", dataset="iris", export_tflite=True)


@pytest.mark.slow
def test_zoo_train_with_export_tflite_exports_a_tflite_model_that_matches_the_saved_model(tmp_path):
    code = main(["train", "mlp", "--dataset", "iris", "--epochs", "1", "--batch-size", "16",
                 "--strategy", "default", "--set", "hidden_units=[8]", "--workdir", str(tmp_path / "run"),
                 "--export-base", str(tmp_path / "models"), "--export-tflite", "--verbose", "0"])
    assert code == 0
    version_dir = tmp_path / "models" / "mlp" / "1"
    card = json.loads((version_dir / "assets.extra" / "model_card.json").read_text())
    assert card["tflite"]["signatures"] == ["serving_default"]
    assert card["training"]["export_tflite"] is True
    x = np.random.default_rng(5).uniform(0, 8, (4, 4)).astype(np.float32)
    reference = tf.saved_model.load(str(version_dir)).signatures["serving_default"](features=tf.constant(x))
    np.testing.assert_allclose(tflite_runner(version_dir)(features=x)["probabilities"],
                               reference["probabilities"].numpy(), atol=1e-5)


def test_export_whose_serving_default_decodes_images_gets_no_tflite_and_the_card_says_why(tmp_path):
    model = build_model("cnn", IMAGE_SPEC, {"filters": [4], "dense_units": 8})
    version_dir = export_saved_model(model, IMAGE_SPEC, tmp_path, "tiny", tflite=True,
                                     input_form="image_bytes")
    assert not (version_dir / TFLITE_FILE).exists()
    error = read_model_card(version_dir)["tflite"]["error"]
    assert "serving_default" in error and "\n" not in error
