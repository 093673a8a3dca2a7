"""Helpers for the reliability tests: client load that checks every answer (a single good
client, or many threads on the latest version). Free ports, bounded waits and HTTP calls are
server_harness's and http_harness's; the fixtures live in tests/reliability/conftest.py.
"""

from __future__ import annotations

import contextlib
import threading
import time

import grpc
import numpy as np
from tests.support.server_harness import wait_until


class GoodTraffic:
    """A client thread sending good Predict requests to half_plus_two until stopped.

    Records every failure and the slowest answer, so a test can show that what it did to the
    server (bad requests, reloads...) neither failed nor stalled anybody else.
    """

    def __init__(self, target: str, *, credentials=None, metadata=(), timeout: float = 10.0):
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

        from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto

        self._channel = (grpc.secure_channel(target, credentials) if credentials is not None
                         else grpc.insecure_channel(target))
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._request = predict_pb2.PredictRequest()
        self._request.model_spec.name = "half_plus_two"
        self._request.model_spec.version.value = 1
        self._request.inputs["x"].CopyFrom(ndarray_to_tensor_proto(np.array([1.0, 2.0], np.float32)))
        self._metadata = tuple(metadata)
        self._timeout = timeout
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="good-traffic", daemon=True)
        self.answered = 0
        self.failures: list[str] = []
        self.slowest_seconds = 0.0

    def _run(self) -> None:
        from serving.apis.tfs.tensor_codec import tensor_proto_to_ndarray

        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                response = self._stub.Predict(self._request, timeout=self._timeout,
                                              metadata=self._metadata)
                values = tensor_proto_to_ndarray(response.outputs["y"]).tolist()
                if values != [2.5, 3.0]:
                    self.failures.append(f"wrong answer {values}")
            except grpc.RpcError as error:
                self.failures.append(f"{error.code().name}: {error.details()}")
            self.slowest_seconds = max(self.slowest_seconds, time.monotonic() - started)
            self.answered += 1

    def __enter__(self) -> "GoodTraffic":
        self._thread.start()
        wait_until(lambda: self.answered >= 1 or self.failures, timeout=30.0,
                   message="the good client's first answer")
        return self

    def __exit__(self, *exc_info) -> None:
        # At least a few good requests ran alongside whatever the test did.
        target = self.answered + 3
        with contextlib.suppress(AssertionError):
            wait_until(lambda: self.answered >= target, timeout=10.0)
        self._stopping.set()
        self._thread.join(timeout=self._timeout + 5)
        self._channel.close()

    def assert_unharmed(self, *, slowest_allowed: float = 5.0) -> None:
        assert not self.failures, f"good requests failed: {self.failures[:3]}"
        assert self.answered >= 2, f"only {self.answered} good requests were answered"
        assert self.slowest_seconds < slowest_allowed, (
            f"a good request took {self.slowest_seconds:.2f}s while bad ones were sent")



class ClientLoad:
    """`threads` clients sending Predict(half_plus_two, latest version) back to back until stopped.

    Each answer is checked against the version it says served it (`expected[version]` is the
    y for x=[1, 2]); a wrong answer or any failed call is recorded. `versions_seen` counts the
    answers per version.
    """

    X = np.array([1.0, 2.0], np.float32)

    def __init__(self, target: str, expected: dict[int, list[float]], *, threads: int = 32,
                 model: str = "half_plus_two", timeout: float = 30.0):
        from tensorflow_serving.apis import predict_pb2

        from serving.apis.tfs.tensor_codec import ndarray_to_tensor_proto

        self._target = target
        self._expected = expected
        self._timeout = timeout
        self._request = predict_pb2.PredictRequest()
        self._request.model_spec.name = model
        self._request.inputs["x"].CopyFrom(ndarray_to_tensor_proto(self.X))
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, name=f"client-load-{index}", daemon=True)
                         for index in range(threads)]
        self.versions_seen: dict[int, int] = {}
        self.failures: list[str] = []

    @property
    def answered(self) -> int:
        with self._lock:
            return sum(self.versions_seen.values())

    def _run(self) -> None:
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        from serving.apis.tfs.tensor_codec import tensor_proto_to_ndarray

        with grpc.insecure_channel(self._target) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            while not self._stopping.is_set():
                try:
                    response = stub.Predict(self._request, timeout=self._timeout)
                except grpc.RpcError as error:
                    with self._lock:
                        self.failures.append(f"{error.code().name}: {error.details()}")
                    continue
                version = response.model_spec.version.value
                values = tensor_proto_to_ndarray(response.outputs["y"]).tolist()
                with self._lock:
                    self.versions_seen[version] = self.versions_seen.get(version, 0) + 1
                    if self._expected.get(version) != values:
                        self.failures.append(f"version {version} answered {values}")

    def __enter__(self) -> "ClientLoad":
        for thread in self._threads:
            thread.start()
        wait_until(lambda: self.answered >= len(self._threads) or self.failures, timeout=60,
                   message="every client thread's first answer")
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self._timeout + 5)

    def keep_going(self, requests: int, timeout: float = 60.0) -> None:
        """Waits until `requests` more answers have come back (the load really ran meanwhile)."""
        target = self.answered + requests
        wait_until(lambda: self.answered >= target, timeout=timeout,
                   message=f"{requests} more answers under load")
