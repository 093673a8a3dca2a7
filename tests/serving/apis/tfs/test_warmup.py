"""Warmup: requests from assets.extra/tf_serving_warmup_requests are replayed before AVAILABLE."""

import os

import grpc
import numpy as np
import pytest
from tests.support import savedmodels
from tensorflow_serving.apis import (classification_pb2, inference_pb2, model_pb2, prediction_log_pb2,
                                     regression_pb2)

from serving.apis.tfs import model_config as config_lib
from serving.apis.tfs import warmup
from serving.core.servable import Servable, ServableLoadError
from serving.version_loader import VersionLoader


def _config(base_path):
    return config_lib.parse_model_config_text(
        f'model_config_list {{ config {{ name: "m" base_path: "{base_path}" }} }}')


def _predict(alias="x"):
    return savedmodels.predict_request("m", {alias: np.array([1.0, 2.0], np.float32)})


def _calls(manager):
    with manager.servable("m") as servable:
        return int(servable.run("call_count", {})["calls"])


def _example_input(request, *values):
    for value in values:
        example = request.input.example_list.examples.add()
        example.features.feature["x"].float_list.value.append(value)
    return request


def test_each_record_is_replayed_the_configured_number_of_times(make_manager, tmp_path):
    savedmodels.export_call_counter(tmp_path, 1, warmup_requests=[_predict()] * 3)
    manager = make_manager(_config(tmp_path), warmup_iterations=2)
    assert _calls(manager) == 6


def test_disabled_warmup_replays_nothing(make_manager, tmp_path):
    savedmodels.export_call_counter(tmp_path, 1, warmup_requests=[_predict()] * 3)
    manager = make_manager(_config(tmp_path), warmup_iterations=None)
    assert _calls(manager) == 0


def test_classify_regress_and_multi_inference_logs_are_replayed(tmp_path):
    classify = _example_input(classification_pb2.ClassificationRequest(), 1.0, -1.0)
    classify.model_spec.signature_name = "classify"
    regress = _example_input(regression_pb2.RegressionRequest(), 3.0)
    regress.model_spec.signature_name = "regress"
    multi = _example_input(inference_pb2.MultiInferenceRequest(), 0.5)
    for signature in ("classify", "regress"):
        # Replayed through MultiInference itself: its tasks name the model and method, as live ones.
        task = multi.tasks.add(method_name=f"tensorflow/serving/{signature}")
        task.model_spec.CopyFrom(model_pb2.ModelSpec(name="m", signature_name=signature))
    path = savedmodels.export_tf1_classify_regress(tmp_path, 1,
                                                   warmup_requests=[classify, regress, multi])
    assert warmup.warm_up(VersionLoader(warmup_iterations=None).load("m", 1, path)) == 3


def test_failing_classify_record_fails_warmup_with_its_error(tmp_path):
    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.signature_name = "classify"
    classify.input.example_list.examples.add().features.feature["y"].float_list.value.append(1.0)
    path = savedmodels.export_tf1_classify_regress(tmp_path, 1, warmup_requests=[classify])
    with pytest.raises(ServableLoadError) as caught:
        warmup.warm_up(VersionLoader(warmup_iterations=None).load("m", 1, path))
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.message.startswith("Warmup record 1 (classify_log) from ")
    assert ("Feature: x (data type: float) is required but could not be found"
            in caught.value.message)


def test_bad_warmup_request_fails_the_load_and_keeps_the_old_version(make_manager, tmp_path,
                                                                     wait_until):
    savedmodels.export_half_plus_two(tmp_path, 1)
    manager = make_manager(_config(tmp_path))
    savedmodels.export_half_plus_two(tmp_path, 2, warmup_requests=[_predict(alias="wrong")])
    wait_until(lambda: {s.version: s.state for s in manager.status("m")}.get(2) == "END",
               message="version 2 fails warmup")
    (status,) = manager.status("m", version=2)
    warmup_file = os.path.join(tmp_path, "2", warmup.WARMUP_FILE)
    assert status.error_code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.error_message.startswith(
        f"Warmup record 1 (predict_log) from {warmup_file} failed: input size does not match "
        "signature: 1!=1 len({wrong}) != len({x}).")
    with manager.servable("m") as servable:
        assert servable.version == 1


def test_warmup_file_that_is_not_a_tfrecord_fails_with_data_loss(tmp_path):
    path = savedmodels.export_half_plus_two(tmp_path, 1)
    os.makedirs(os.path.join(path, "assets.extra"))
    with open(os.path.join(path, warmup.WARMUP_FILE), "wb") as file:
        file.write(b"\x01 definitely not a TFRecord file, but long enough to read a header")
    with pytest.raises(ServableLoadError) as caught:
        warmup.warm_up(VersionLoader(warmup_iterations=None).load("m", 1, path))
    assert caught.value.code == grpc.StatusCode.DATA_LOSS
    assert "Please verify your warmup data is in TFRecord format." in caught.value.message


def test_more_than_1000_warmup_records_are_refused(tmp_path):
    path = savedmodels.export_half_plus_two(tmp_path, 1, warmup_requests=[_predict()] * 1001)
    with pytest.raises(ServableLoadError, match=r"Number of warmup records exceeds the maximum "
                                                r"\(1000\)"):
        warmup.warm_up(VersionLoader(warmup_iterations=None).load("m", 1, path), iterations=0)


def test_session_run_log_cannot_be_replayed(tmp_path):
    log = prediction_log_pb2.PredictionLog()
    log.session_run_log.SetInParent()
    path = savedmodels.export_half_plus_two(tmp_path, 1, warmup_requests=[log])
    with pytest.raises(ServableLoadError) as caught:
        warmup.warm_up(VersionLoader(warmup_iterations=None).load("m", 1, path))
    assert caught.value.code == grpc.StatusCode.UNIMPLEMENTED
    assert "Unsupported log_type for warmup: session_run_log" in caught.value.message


def test_version_without_warmup_file_needs_no_warmup(shared_models):
    servable = VersionLoader(warmup_iterations=None).load("m", 1, str(shared_models / "half_plus_two" / "1"))
    assert warmup.warm_up(servable) == 0
