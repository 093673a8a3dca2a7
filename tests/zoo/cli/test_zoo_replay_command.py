"""`zoo replay` against real servers: traffic recorded by the server's request logging is sent
again, answers that match and answers from a changed model, warmup files, one-line errors."""

import glob
import shutil

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import (classification_pb2, inference_pb2,
                                     prediction_service_pb2_grpc, regression_pb2)
from tests.support import savedmodels
from tests.support.server_harness import ServerStarter, model_config_text

from zoo.cli.main import main

pytestmark = pytest.mark.slow


def _examples(request, *values):
    for value in values:
        request.input.example_list.examples.add().features.feature["x"].float_list.value.append(value)
    return request


@pytest.fixture(scope="module")
def servers():
    starter = ServerStarter()
    yield starter
    starter.stop_all()


@pytest.fixture(scope="module")
def recorded(servers, tmp_path_factory):
    """(server target, log file): Predict on half_plus_two 0.5x+2 and Classify, Regress and
    MultiInference on the TF1 model, recorded by a server logging every request."""
    root = tmp_path_factory.mktemp("replay")
    savedmodels.export_half_plus_two(root / "half", 1)
    savedmodels.export_tf1_classify_regress(root / "tf1", 1)
    logging = (f'logging_config {{ log_collector_config {{ filename_prefix: "{root}/logs/requests" }} '
               "sampling_config { sampling_rate: 1.0 } }")
    config = root / "models.config"
    config.write_text(model_config_text({"half": str(root / "half"), "tf1": str(root / "tf1")},
                                        extra={"half": logging, "tf1": logging}))
    server = servers(f"--model_config_file={config}", "--file_system_poll_wait_seconds=0")
    classify = _examples(classification_pb2.ClassificationRequest(), 1.0, -2.0)
    classify.model_spec.name, classify.model_spec.signature_name = "tf1", "classify"
    regress = _examples(regression_pb2.RegressionRequest(), 3.0)
    regress.model_spec.name, regress.model_spec.signature_name = "tf1", "regress"
    multi = _examples(inference_pb2.MultiInferenceRequest(), 0.5)
    for signature in ("classify", "regress"):
        task = multi.tasks.add(method_name=f"tensorflow/serving/{signature}")
        task.model_spec.name, task.model_spec.signature_name = "tf1", signature
    with grpc.insecure_channel(server.target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        stub.Predict(savedmodels.predict_request("half", {"x": np.array([1.0, 2.0], np.float32)}),
                     timeout=30)
        stub.Classify(classify, timeout=30)
        stub.Regress(regress, timeout=30)
        stub.MultiInference(multi, timeout=30)
    assert server.server.request_logger.flush()
    [log_file] = glob.glob(str(root / "logs" / "requests-*.tfrecord"))
    # A copy: the recording server logs the replayed requests too.
    recording = root / "recording.tfrecord"
    shutil.copy(log_file, recording)
    return server.target, str(recording), root


def test_replaying_to_the_recording_server_matches_every_answer(recorded, capsys):
    target, log_file, _ = recorded
    assert main(["replay", log_file, "--server", target]) == 0
    assert capsys.readouterr().out.strip() == (
        f"replayed 4 requests to {target}: 4 matched, 0 differed, 0 failed, 0 not compared")


def test_a_changed_model_is_reported_record_by_record(recorded, servers, tmp_path, capsys):
    _, log_file, root = recorded
    savedmodels.export_half_plus_two(tmp_path / "half", 2, slope=2.0, offset=1.0)
    changed = servers("--model_name=half", f"--model_base_path={tmp_path / 'half'}",
                      "--file_system_poll_wait_seconds=0")
    assert main(["replay", log_file, "--server", changed.target]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ("record 1 (predict_log): differs: output 'y': 2 of 2 values differ beyond "
                        "rtol=1e-05 atol=1e-06; largest at [1]: np.float32(5.0), recorded "
                        "np.float32(3.0)")
    assert lines[1].startswith("record 2 (classify_log): failed: NOT_FOUND: ")
    assert lines[-1] == (f"replayed 4 requests to {changed.target}: 0 matched, 1 differed, "
                         "3 failed, 0 not compared")


def test_model_flag_sends_the_requests_to_another_model(recorded, servers, tmp_path, capsys):
    _, log_file, root = recorded
    renamed = servers("--model_name=renamed", f"--model_base_path={root / 'half'}",
                      "--file_system_poll_wait_seconds=0")
    assert main(["replay", log_file, "--server", renamed.target, "--model", "renamed"]) == 1
    output = capsys.readouterr().out
    assert "record 1 (predict_log)" not in output  # the Predict matched on the renamed model
    assert "1 matched" in output


def test_warmup_records_without_responses_are_sent_but_not_compared(recorded, tmp_path, capsys):
    target, _, _ = recorded
    version = savedmodels.export_half_plus_two(
        tmp_path / "half", 1,
        warmup_requests=[savedmodels.predict_request("half", {"x": np.array([1.0], np.float32)})])
    warmup_file = f"{version}/assets.extra/tf_serving_warmup_requests"
    assert main(["replay", warmup_file, "--server", target]) == 0
    assert capsys.readouterr().out.strip().endswith("0 matched, 0 differed, 0 failed, 1 not compared")


def test_a_file_that_is_not_a_request_log_is_one_line_and_status_2(recorded, tmp_path, capsys):
    target, _, _ = recorded
    bogus = tmp_path / "bogus.tfrecord"
    bogus.write_bytes(b"this is not a TFRecord file at all")
    assert main(["replay", str(bogus), "--server", target]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"zoo replay: error: {bogus}: not a TFRecord file after record 0 (")
    assert len(error.splitlines()) == 1
