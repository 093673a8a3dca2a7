"""`python -m serving` end to end: start-up line, warnings, SIGTERM with a request in flight."""

import os
import re
import selectors
import signal
import subprocess
import sys
import time

import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tests.support.savedmodels import export_request_sleeper

from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STRUCTURED_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ ")


def _read_line_containing(stream, text: str, timeout_seconds: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if selector.select(timeout=deadline - time.monotonic()):
            line = stream.readline()
            if not line:
                break
            if text in line:
                return line
    raise AssertionError(f"the server did not print {text!r} within {timeout_seconds} s")


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(tmp_path, free_tcp_port):
    """Also checks the start-up path of a real process: TF thread flags applied before TensorFlow
    runs, one warning for the unimplemented --enable_profiler, structured log lines."""
    export_request_sleeper(tmp_path / "sleeper")
    command = [sys.executable, "-m", "serving", f"--model_base_path={tmp_path / 'sleeper'}",
               "--model_name=sleeper", f"--port={free_tcp_port}", "--grpc_bind_address=127.0.0.1",
               "--file_system_poll_wait_seconds=0", "--enable_profiler",
               "--tensorflow_intra_op_parallelism=1", "--tensorflow_inter_op_parallelism=2"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=REPO_ROOT, env=env)
    try:
        started = _read_line_containing(process.stdout, "serving on", timeout_seconds=90)
        assert started.strip() == f"serving on 127.0.0.1:{free_tcp_port} models=sleeper"

        request = predict_pb2.PredictRequest()
        request.model_spec.name = "sleeper"
        request.inputs["x"].CopyFrom(ndarray_to_tensor_proto(np.array([1.5], np.float32)))
        request.inputs["sleep_micros"].CopyFrom(ndarray_to_tensor_proto(np.int64(2_000_000)))
        with grpc.insecure_channel(f"127.0.0.1:{free_tcp_port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            in_flight = stub.Predict.future(request, timeout=60)
            time.sleep(0.7)  # the call has reached the model and sleeps there
            process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            with pytest.raises(grpc.RpcError) as refused:  # no new calls once stopping
                stub.Predict(request, timeout=10)
            assert not in_flight.done()
            response = in_flight.result(timeout=60)
        np.testing.assert_allclose(tensor_proto_to_ndarray(response.outputs["y"]), [3.0])
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()

    ours = [line for line in stderr.splitlines() if " serving." in line]
    assert ours and all(STRUCTURED_LINE.match(line) for line in ours)
    assert [line for line in stderr.splitlines() if "--enable_profiler" in line] == [
        next(line for line in ours if "--enable_profiler" in line)]
    assert "not implemented yet" in next(line for line in ours if "--enable_profiler" in line)
    assert any("event=tensorflow_threads intra_op=1 inter_op=2" in line for line in ours)
    assert any("signal=SIGTERM" in line for line in ours)
    assert any("event=version_unloaded model=sleeper" in line for line in ours)
