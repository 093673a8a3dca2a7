"""Faults while clients are busy: versions that appear, fail, vanish or come back, config reloads
naming a path that is not there, and SIGTERM with requests in flight.

tests/serving/core covers each fault on a bare ModelManager without traffic; here the same faults
hit a real server under load (32 client threads for the hot reload, 8 for the others), and the
test checks what an on-call engineer would: no client request failed, every answer names the
version that computed it (and matches that version's arithmetic), GetModelStatus and the log say
what went wrong, and the server recovers by itself once the files are fixed. Each test prints its
figures (requests answered, per version, failures).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

from tests.support.batching_helpers import export_sleeper
from tests.support.reliability_harness import ClientLoad
from tests.support.server_harness import free_port, model_config_text, wait_until

V1, V2 = [2.5, 3.0], [3.0, 5.0]  # half_plus_two v1 (0.5x+2) and v2 (2x+1) at x = [1, 2]
FAST_RELOADS = ("--file_system_poll_wait_seconds=0.1", "--max_num_load_retries=0",
                "--load_retry_interval_micros=0")


def version_states(target: str, model: str) -> dict[int, tuple[str, str]]:
    """{version: (state, error message)} from GetModelStatus; {} if the model has none."""
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = model
    with grpc.insecure_channel(target) as channel:
        try:
            response = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=10)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return {}
            raise
    states = get_model_status_pb2.ModelVersionStatus.State
    return {entry.version: (states.Name(entry.state), entry.status.error_message)
            for entry in response.model_version_status}


def report(name: str, load: ClientLoad) -> None:
    print(f"{name}: {load.answered} requests answered, {len(load.failures)} failed, "
          f"answers per version {dict(sorted(load.versions_seen.items()))}")


@pytest.fixture
def base_path(tmp_path):
    from tests.support import savedmodels

    savedmodels.export_half_plus_two(tmp_path / "half_plus_two", 1)
    return tmp_path / "half_plus_two"


@pytest.mark.slow
def test_new_version_appearing_under_load_is_swapped_in_with_no_failed_request(start_server, base_path):
    from tests.support import savedmodels

    server = start_server(f"--model_base_path={base_path}", "--model_name=half_plus_two", *FAST_RELOADS)
    with ClientLoad(server.target, {1: V1, 2: V2}, threads=32) as load:
        load.keep_going(200)
        savedmodels.export_half_plus_two(base_path, 2, slope=2.0, offset=1.0)
        wait_until(lambda: load.versions_seen.get(2, 0) >= 200 or load.failures, timeout=60,
                   message="200 answers from version 2")
    report("hot reload, 32 clients", load)
    assert load.failures == []
    assert load.versions_seen[1] >= 200 and load.versions_seen[2] >= 200
    assert version_states(server.target, "half_plus_two") == {1: ("END", ""), 2: ("AVAILABLE", "")}


@pytest.mark.slow
def test_broken_new_version_under_load_keeps_the_old_one_reports_logs_and_recovers_once_fixed(
        start_server, base_path, caplog):
    from tests.support import savedmodels

    server = start_server(f"--model_base_path={base_path}", "--model_name=half_plus_two", *FAST_RELOADS)
    with caplog.at_level(logging.INFO), ClientLoad(server.target, {1: V1, 2: V2}, threads=8) as load:
        savedmodels.export_broken_version(base_path, 2)
        wait_until(lambda: version_states(server.target, "half_plus_two").get(2, ("",))[0] == "END",
                   message="version 2 failing to load")
        load.keep_going(100)
        state, message = version_states(server.target, "half_plus_two")[2]
        assert f"{base_path / '2'}" in message and "Cannot parse the SavedModel" in message
        assert set(load.versions_seen) == {1}
        assert "event=version_load_failed model=half_plus_two version=2" in caplog.text

        savedmodels.export_half_plus_two(base_path, 2, slope=2.0, offset=1.0)  # the fix
        wait_until(lambda: load.versions_seen.get(2, 0) >= 50 or load.failures,
                   message="the fixed version 2 answering")
    report("broken version then fixed, 8 clients", load)
    assert load.failures == []
    assert version_states(server.target, "half_plus_two")[2] == ("AVAILABLE", "")


@pytest.mark.slow
def test_deleting_the_serving_version_under_load_falls_back_without_a_failed_request(start_server, base_path):
    from tests.support import savedmodels

    savedmodels.export_half_plus_two(base_path, 2, slope=2.0, offset=1.0)
    server = start_server(f"--model_base_path={base_path}", "--model_name=half_plus_two", *FAST_RELOADS)
    with ClientLoad(server.target, {1: V1, 2: V2}, threads=8) as load:
        load.keep_going(100)
        shutil.rmtree(base_path / "2")
        wait_until(lambda: load.versions_seen.get(1, 0) >= 100 or load.failures,
                   message="version 1 taking over")
    report("serving version deleted, 8 clients", load)
    assert load.failures == []
    assert version_states(server.target, "half_plus_two") == {1: ("AVAILABLE", ""), 2: ("END", "")}


@pytest.mark.slow
def test_config_reload_naming_a_missing_path_keeps_serving_reports_and_recovers(
        start_server, base_path, tmp_path, caplog):
    from tests.support import savedmodels

    config = tmp_path / "models.config"
    config.write_text(model_config_text({"half_plus_two": str(base_path)}))
    server = start_server(f"--model_config_file={config}", "--model_config_file_poll_wait_seconds=0.1",
                          *FAST_RELOADS)
    missing = tmp_path / "not_yet"
    with caplog.at_level(logging.INFO), ClientLoad(server.target, {1: V1}, threads=8) as load:
        config.write_text(model_config_text({"half_plus_two": str(base_path), "late": str(missing)}))
        wait_until(lambda: "late" in server.manager.model_names(), message="the reloaded config")
        code, message = status_error(server.target, "late")
        assert code == grpc.StatusCode.NOT_FOUND
        assert f"Could not find base path {missing} for servable late" in message
        assert "event=base_path_problem model=late" in caplog.text
        load.keep_going(100)

        savedmodels.export_half_plus_two(missing, 1)  # the path appears
        wait_until(lambda: version_states(server.target, "late").get(1, ("",))[0] == "AVAILABLE",
                   message="the late model loading")
        load.keep_going(50)
    report("config reload with a missing path, 8 clients", load)
    assert load.failures == []


def status_error(target: str, model: str) -> tuple[grpc.StatusCode, str]:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = model
    with grpc.insecure_channel(target) as channel:
        try:
            model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=10)
        except grpc.RpcError as error:
            return error.code(), error.details()
    return grpc.StatusCode.OK, ""


@pytest.mark.slow
def test_model_with_a_missing_base_path_is_not_found_naming_the_path(start_server, base_path, tmp_path):
    config = tmp_path / "models.config"
    missing = tmp_path / "nowhere"
    config.write_text(model_config_text({"half_plus_two": str(base_path), "ghost": str(missing)}))
    server = start_server(f"--model_config_file={config}", "--file_system_poll_wait_seconds=0")
    code, message = status_error(server.target, "ghost")
    assert code == grpc.StatusCode.NOT_FOUND
    assert f"Could not find base path {missing} for servable ghost" in message
    assert version_states(server.target, "half_plus_two") == {1: ("AVAILABLE", "")}


# === SIGTERM with requests in flight ===


@pytest.mark.slow
def test_sigterm_under_load_lets_every_request_in_flight_finish_and_exits_0(tmp_path):
    export_sleeper(tmp_path / "sleeper", 1, sleep_seconds=1.0)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "serving", f"--model_base_path={tmp_path / 'sleeper'}",
         "--model_name=sleeper", f"--port={port}", "--grpc_bind_address=127.0.0.1",
         "--file_system_poll_wait_seconds=0", "--grpc_max_threads=64", "--shutdown_grace_seconds=30",
         "--tensorflow_inter_op_parallelism=32", "--enable_model_warmup=false"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        assert "serving on" in process.stdout.readline()
        started = time.monotonic()
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "sleeper"
        request.inputs["x"].CopyFrom(ndarray_to_tensor_proto(np.array([1.5], np.float32)))
        results: list = []
        in_flight = 16

        def call() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                try:
                    response = stub.Predict(request, timeout=60)
                    results.append(tensor_proto_to_ndarray(response.outputs["y"]).tolist())
                except grpc.RpcError as error:
                    results.append(f"{error.code().name}: {error.details()}")

        clients = [threading.Thread(target=call) for _ in range(in_flight)]
        for client in clients:
            client.start()
        time.sleep(0.5)  # every call is now waiting on the model
        assert results == [], "the model answered before the signal: make it sleep longer"
        process.send_signal(signal.SIGTERM)
        for client in clients:
            client.join(timeout=60)
        exit_code = process.wait(timeout=60)
        print(f"drained in {time.monotonic() - started:.1f} s")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    print(f"SIGTERM with {in_flight} requests in flight: {results.count([3.0])} answered, "
          f"exit code {exit_code}")
    assert results == [[3.0]] * in_flight
    assert exit_code == 0
