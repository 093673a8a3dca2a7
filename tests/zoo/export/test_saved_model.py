"""Export: signatures, assets, model card, warmup file, versioning, and parity with Keras."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import prediction_log_pb2

from zoo.export import export_saved_model, next_version
from zoo.export.saved_model import read_model_card
from zoo.spec import DataSpec

IMAGE_SPEC = DataSpec(name="tiny", kind="image", task="classification", input_shape=(4, 4, 1),
                      num_outputs=3, class_names=("cat", "dog", "fox"))
REGRESSION_SPEC = DataSpec(name="tiny_reg", kind="tabular", task="regression", input_shape=(5,), num_outputs=1)


def tiny_model(spec: DataSpec) -> keras.Model:
    keras.utils.set_random_seed(1)
    inputs = keras.Input(spec.input_shape, name=spec.input_name)
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inputs))
    activation = "softmax" if spec.is_classification else None
    name = "probabilities" if spec.is_classification else "values"
    return keras.Model(inputs, keras.layers.Dense(spec.num_outputs, activation=activation, name=name)(hidden))


def signature_defs(version_dir):
    saved_model = saved_model_pb2.SavedModel.FromString((version_dir / "saved_model.pb").read_bytes())
    return saved_model.meta_graphs[0].signature_def


@pytest.fixture(scope="module")
def classifier_export(tmp_path_factory):
    model = tiny_model(IMAGE_SPEC)
    x = np.random.default_rng(0).uniform(0, 255, (6, 4, 4, 1)).astype(np.float32)
    version_dir = export_saved_model(model, IMAGE_SPEC, tmp_path_factory.mktemp("export"), "tiny",
                                     model_card={"dataset": "tiny"}, warmup_examples=x)
    return model, x, version_dir


def test_reloaded_savedmodel_matches_keras_outputs(classifier_export):
    model, x, version_dir = classifier_export
    serving = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    outputs = serving(image=tf.constant(x))
    np.testing.assert_allclose(outputs["probabilities"].numpy(), model.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(outputs["classes"].numpy(), np.argmax(model.predict(x, verbose=0), -1))


def test_serving_default_has_named_inputs_outputs_and_unknown_batch(classifier_export):
    _, _, version_dir = classifier_export
    sig = signature_defs(version_dir)["serving_default"]
    assert sig.method_name == "tensorflow/serving/predict"
    assert list(sig.inputs) == ["image"]
    assert [d.size for d in sig.inputs["image"].tensor_shape.dim] == [-1, 4, 4, 1]
    assert set(sig.outputs) == {"probabilities", "classes"}


def test_classify_signature_carries_classify_method_and_scores_examples(classifier_export):
    model, x, version_dir = classifier_export
    assert signature_defs(version_dir)["classify"].method_name == "tensorflow/serving/classify"
    examples = [
        tf.train.Example(features=tf.train.Features(feature={
            "image": tf.train.Feature(float_list=tf.train.FloatList(value=row.reshape(-1)))
        })).SerializeToString()
        for row in x
    ]
    classify = tf.saved_model.load(str(version_dir)).signatures["classify"]
    outputs = classify(inputs=tf.constant(examples))
    np.testing.assert_allclose(outputs["scores"].numpy(), model.predict(x, verbose=0), atol=1e-5)
    assert outputs["classes"].numpy()[0].tolist() == [b"cat", b"dog", b"fox"]


def test_labels_asset_lists_class_names(classifier_export):
    _, _, version_dir = classifier_export
    assert (version_dir / "assets" / "labels.txt").read_text().split() == ["cat", "dog", "fox"]


def test_model_card_records_spec_and_given_fields(classifier_export):
    _, _, version_dir = classifier_export
    card = read_model_card(version_dir)
    assert card["dataset"] == "tiny" and card["version"] == 1
    assert card["data_spec"]["input_name"] == "image"
    assert card["signatures"]["classify"] == "tensorflow/serving/classify"
    json.dumps(card)


def test_warmup_file_holds_predict_logs_for_the_signature(classifier_export):
    _, _, version_dir = classifier_export
    path = version_dir / "assets.extra" / "tf_serving_warmup_requests"
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]
    assert [log.WhichOneof("log_type") for log in logs] == ["predict_log", "predict_log"]
    request = logs[1].predict_log.request
    assert request.model_spec.name == "tiny"
    assert [d.size for d in request.inputs["image"].tensor_shape.dim] == [8, 4, 4, 1]


def test_versions_increment_and_leave_no_staging_dirs(tmp_path):
    model = tiny_model(REGRESSION_SPEC)
    first = export_saved_model(model, REGRESSION_SPEC, tmp_path, "reg")
    second = export_saved_model(model, REGRESSION_SPEC, tmp_path, "reg")
    assert (first.name, second.name) == ("1", "2")
    assert sorted(p.name for p in (tmp_path / "reg").iterdir()) == ["1", "2"]
    assert next_version(tmp_path / "reg") == 3


def test_existing_version_is_never_overwritten(tmp_path):
    model = tiny_model(REGRESSION_SPEC)
    export_saved_model(model, REGRESSION_SPEC, tmp_path, "reg", version=4)
    with pytest.raises(FileExistsError, match="never overwritten"):
        export_saved_model(model, REGRESSION_SPEC, tmp_path, "reg", version=4)


def test_regressor_gets_regress_signature_with_flat_outputs(tmp_path):
    model = tiny_model(REGRESSION_SPEC)
    version_dir = export_saved_model(model, REGRESSION_SPEC, tmp_path, "reg")
    assert signature_defs(version_dir)["regress"].method_name == "tensorflow/serving/regress"
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    examples = [
        tf.train.Example(features=tf.train.Features(feature={
            "features": tf.train.Feature(float_list=tf.train.FloatList(value=row))
        })).SerializeToString()
        for row in x
    ]
    outputs = tf.saved_model.load(str(version_dir)).signatures["regress"](inputs=tf.constant(examples))
    np.testing.assert_allclose(outputs["outputs"].numpy(), model.predict(x, verbose=0).reshape(-1), atol=1e-5)
    assert not (version_dir / "assets" / "labels.txt").exists()


def test_model_with_dropout_and_random_augmentation_exports(tmp_path):
    inputs = keras.Input((4, 4, 1), name="image")
    x = keras.layers.RandomFlip("horizontal")(inputs)
    x = keras.layers.Dropout(0.5)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probabilities")(x))
    version_dir = export_saved_model(model, IMAGE_SPEC, tmp_path, "rng")
    x = np.ones((2, 4, 4, 1), np.float32)
    outputs = tf.saved_model.load(str(version_dir)).signatures["serving_default"](image=tf.constant(x))
    np.testing.assert_allclose(outputs["probabilities"].numpy(), model.predict(x, verbose=0), atol=1e-5)
