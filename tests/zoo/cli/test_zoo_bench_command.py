"""`zoo bench` against a real server serving a real zoo export, over TF Serving's Predict and the
Open Inference Protocol's ModelInfer: a short bounded run with zero errors, error counting, and
one-line errors."""

import io
import json
import socket
import time

import keras
import numpy as np
import pytest
from PIL import Image
from tensorflow_serving.apis import predict_pb2

from tests.support.zoo_cli import run_zoo
from serving import flags
from tfzoo_client.metadata import TensorInfo
from serving.server import ModelServer, ServerStartError
from zoo.bench import BenchOptions, PROTOCOLS
from zoo.bench.runner import run_level
from zoo.bench.grpc_unary import GrpcPlan
from zoo.bench.oip_grpc import MODEL_INFER_METHOD
from zoo.bench.synthetic import SAMPLE_IMAGE_SIDE, synthetic_tensor
from zoo.bench.tfs_grpc import PREDICT_METHOD
from zoo.export import export_saved_model
from zoo.spec import DataSpec

SPEC = DataSpec(name="prices", kind="tabular", task="regression", input_shape=(4,), num_outputs=1)


def start_server(base_path) -> ModelServer:
    for _ in range(5):  # another process may take the free port first
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = ModelServer(flags.parse_flags([f"--model_base_path={base_path}", "--model_name=prices",
                                                f"--port={port}", "--grpc_bind_address=127.0.0.1",
                                                "--file_system_poll_wait_seconds=0"]))
        try:
            server.start()
        except ServerStartError:
            continue
        return server
    raise RuntimeError("no free port for the test server")


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(SPEC.input_shape, name=SPEC.input_name)
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    root = tmp_path_factory.mktemp("exports")
    export_saved_model(model, SPEC, root, "prices")
    server = start_server(root / "prices")
    yield f"127.0.0.1:{server.port}"
    server.stop(grace=0)


def test_short_run_reports_each_concurrency_with_zero_errors(target, capsys):
    began = time.monotonic()
    code, out, _ = run_zoo(capsys, "bench", "--server", target, "--model", "prices", "--concurrency", "1,3",
                           "--duration", "1", "--warmup", "0.2", "--batch", "2", "--processes", "2", "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["model"], result["protocol"], result["batch"]) == ("prices", "tfs-grpc", 2)
    assert [level["concurrency"] for level in result["levels"]] == [1, 3]
    for level in result["levels"]:
        assert level["errors"] == 0, level["error_samples"]
        assert level["requests"] > 10
        assert level["examples_per_second"] == pytest.approx(2 * level["requests_per_second"])
        assert 0 < level["p50_ms"] <= level["p90_ms"] <= level["p99_ms"]
    assert time.monotonic() - began < 60


def test_table_lists_qps_latency_percentiles_and_errors(target, capsys):
    code, out, err = run_zoo(capsys, "bench", "--server", target, "--model", "prices", "--concurrency", "2",
                             "--duration", "0.5", "--warmup", "0")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == f"prices on {target} (tfs-grpc, batch 1)"
    assert lines[1].split() == ["concurrency", "requests/s", "examples/s", "p50", "ms", "p90", "ms", "p99", "ms", "errors"]
    assert lines[3].split()[0] == "2" and lines[3].split()[-1] == "0"
    assert "concurrency 2:" in err  # progress goes to stderr


def test_failed_requests_are_counted_by_status_with_the_servers_message(target):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "missing"
    plan = GrpcPlan(target=target, method=PREDICT_METHOD, payload=request.SerializeToString())
    options = BenchOptions(server=target, model="missing", duration=0.5, warmup=0)
    level = run_level(PROTOCOLS["tfs-grpc"], plan, 2, options)
    assert level.requests == 0 and level.errors > 0 and level.p50_ms is None
    assert list(level.errors_by_code) == ["NOT_FOUND"]
    assert "Latest(missing)" in level.error_samples["NOT_FOUND"]


def test_oip_run_sends_model_infer_shaped_by_model_metadata_with_zero_errors(target, capsys):
    code, out, _ = run_zoo(capsys, "bench", "--server", target, "--model", "prices", "--protocol", "oip-grpc",
                           "--concurrency", "1,2", "--duration", "1", "--warmup", "0.2", "--batch", "3", "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["protocol"], result["batch"]) == ("oip-grpc", 3)
    for level in result["levels"]:
        assert level["errors"] == 0, level["error_samples"]
        assert level["requests"] > 10


def test_oip_plan_holds_one_raw_model_infer_request_for_the_models_inputs(target):
    from serving.transports.grpc import grpc_predict_v2_pb2 as pb2

    plan = PROTOCOLS["oip-grpc"]().prepare(BenchOptions(server=target, model="prices", batch=2, version=1))
    request = pb2.ModelInferRequest.FromString(plan.payload)

    assert plan.method == MODEL_INFER_METHOD
    assert (request.model_name, request.model_version) == ("prices", "1")
    assert [(tensor.name, tensor.datatype, list(tensor.shape)) for tensor in request.inputs] == [
        (SPEC.input_name, "FP32", [2, 4])]
    assert [len(raw) for raw in request.raw_input_contents] == [2 * 4 * 4]


def test_oip_failed_requests_are_counted_by_status_with_the_servers_message(target):
    from serving.transports.grpc import grpc_predict_v2_pb2 as pb2

    request = pb2.ModelInferRequest(model_name="missing")
    plan = GrpcPlan(target=target, method=MODEL_INFER_METHOD, payload=request.SerializeToString())
    level = run_level(PROTOCOLS["oip-grpc"], plan, 2, BenchOptions(server=target, model="missing",
                                                                   duration=0.5, warmup=0))
    assert level.requests == 0 and level.errors > 0 and list(level.errors_by_code) == ["NOT_FOUND"]


def test_oip_unknown_model_is_a_one_line_error(target, capsys):
    code, _, err = run_zoo(capsys, "bench", "--server", target, "--model", "nope", "--protocol", "oip-grpc",
                           "--duration", "0.5")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("zoo bench: error: NOT_FOUND: ") and "nope" in err


@pytest.mark.parametrize("argument, message", [(("--label", "stable"), "no version labels"),
                                               (("--signature", "other"), "default signature")])
def test_oip_refuses_what_the_protocol_cannot_select(target, capsys, argument, message):
    code, _, err = run_zoo(capsys, "bench", "--server", target, "--model", "prices", "--protocol", "oip-grpc",
                           *argument, "--duration", "0.5")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unknown_model_is_a_one_line_error(target, capsys):
    code, _, err = run_zoo(capsys, "bench", "--server", target, "--model", "nope", "--duration", "0.5")
    assert code == 2 and err.strip() == "zoo bench: error: NOT_FOUND: Servable not found for request: Latest(nope)"


def test_unknown_protocol_names_the_registered_ones(capsys):
    code, _, err = run_zoo(capsys, "bench", "--server", "127.0.0.1:1", "--model", "m", "--protocol", "carrier-pigeon")
    assert code == 2 and "carrier-pigeon" in err and "tfs-grpc" in err and len(err.strip().splitlines()) == 1


def test_bad_concurrency_list_is_refused(capsys):
    code, _, err = run_zoo(capsys, "bench", "--server", "127.0.0.1:1", "--model", "m", "--concurrency", "1,0")
    assert code == 2 and "--concurrency" in err and "1,0" in err


def test_options_are_validated_with_the_received_value():
    with pytest.raises(ValueError, match=r"duration must be a positive number of seconds. Received: duration=0"):
        BenchOptions(server="h:1", model="m", duration=0)


def test_an_image_bytes_input_is_sent_png_files_that_decode():
    info = TensorInfo("image_bytes", "string", "DT_STRING", (None,))
    files = synthetic_tensor(info, 2, np.random.default_rng(0))
    assert files.shape == (2,)
    image = Image.open(io.BytesIO(files[0]))
    image.load()
    assert (image.size, image.mode) == ((SAMPLE_IMAGE_SIDE, SAMPLE_IMAGE_SIDE), "RGB")
