"""`Client`: the blocking client, for scripts, notebooks and the `zoo` command line."""

from __future__ import annotations

import time

import grpc

from tfzoo_client import errors
from tfzoo_client import operations
from tfzoo_client.base import SERVICE_OF_METHOD, STUBS, BaseClient
from tfzoo_client.errors import error_from_rpc


class Client(BaseClient):
    """A TensorFlow Serving client that speaks numpy.

        with Client("localhost:8500") as client:
            client.wait_until_ready("mnist")
            probabilities = client.predict("mnist", images)["probabilities"]

    Arguments:
        target: "HOST:PORT" (or unix:PATH) of the server.
        tls: True for TLS with the system's root certificates, a TlsConfig for custom ones or
            mutual TLS, None for a plaintext channel.
        token: sent as `authorization: Bearer TOKEN` with every call.
        timeout: seconds each method may take in all, retries included (a method's own
            `timeout=` overrides it). Every call carries a deadline.
        retry: how calls failing with UNAVAILABLE are retried (RetryPolicy() by default;
            RetryPolicy(max_attempts=1) turns retries off). No other status is retried.
        max_message_bytes: the largest request and response, both ways (512 MiB by default).
        metadata_ttl: seconds a model's metadata (used to convert inputs) is reused; 0 asks anew
            before every predict.
        channel_options: more gRPC channel arguments, appended to the client's own.

    Failed calls raise the typed errors of tfzoo_client/errors.py (errors.NotFound,
    errors.InvalidArgument, errors.Unavailable...) with the server's status code (`.code`) and
    message (`.message`). The methods are thread-safe; one client can be shared.
    """

    def _connect(self) -> None:
        if self._tls is None:
            self._channel = grpc.insecure_channel(self.target, options=self._channel_options)
        else:
            self._channel = grpc.secure_channel(self.target, self._tls.credentials(), options=self._channel_options)
        self._stubs = {service: stub(self._channel) for service, stub in STUBS.items()}

    def close(self) -> None:
        """Closes the channel; calls in progress are cancelled."""
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _run(self, operation: operations.Operation, timeout: float | None):
        deadline = time.monotonic() + self._deadline_seconds(timeout)
        reply, failure = None, None
        try:
            while True:
                step = operation.send(reply) if failure is None else operation.throw(failure)
                reply, failure = None, None
                if isinstance(step, operations.Pause):
                    time.sleep(step.seconds)
                    continue
                try:
                    reply = self._call(step, deadline)
                except errors.ServingError as error:
                    failure = error
        except StopIteration as done:
            return done.value

    def _call(self, call: operations.Call, deadline: float):
        rpc = getattr(self._stubs[SERVICE_OF_METHOD[call.method]], call.method)
        backoffs = self.retry.backoffs() if call.retry else iter(())
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise errors.DeadlineExceeded(
                    f"{call.method} to {self.target}: the deadline passed before the call could start"
                )
            try:
                return rpc(call.request, timeout=min(remaining, call.timeout or remaining),
                           metadata=self._call_metadata)
            except grpc.RpcError as rpc_error:
                error = error_from_rpc(rpc_error)
            wait = next(backoffs, None) if isinstance(error, errors.Unavailable) else None
            if wait is None or time.monotonic() + wait >= deadline:
                raise error
            time.sleep(wait)
