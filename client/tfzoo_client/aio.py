"""`AsyncClient`: the same client on grpc.aio, for asyncio programs and many concurrent calls."""

from __future__ import annotations

import asyncio
import time

import grpc

from tfzoo_client import errors
from tfzoo_client import operations
from tfzoo_client.base import SERVICE_OF_METHOD, STUBS, BaseClient
from tfzoo_client.errors import error_from_rpc


class AsyncClient(BaseClient):
    """`Client`'s methods and arguments, on asyncio: each method returns an awaitable.

        async with AsyncClient("localhost:8500") as client:
            outputs = await client.predict("mnist", images)

    Create it inside the running event loop that will use it (grpc.aio channels belong to one
    loop).
    """

    def _connect(self) -> None:
        if self._tls is None:
            self._channel = grpc.aio.insecure_channel(self.target, options=self._channel_options)
        else:
            self._channel = grpc.aio.secure_channel(self.target, self._tls.credentials(),
                                                    options=self._channel_options)
        self._stubs = {service: stub(self._channel) for service, stub in STUBS.items()}

    async def close(self) -> None:
        """Closes the channel; calls in progress are cancelled."""
        await self._channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def _run(self, operation: operations.Operation, timeout: float | None):
        deadline = time.monotonic() + self._deadline_seconds(timeout)
        reply, failure = None, None
        try:
            while True:
                step = operation.send(reply) if failure is None else operation.throw(failure)
                reply, failure = None, None
                if isinstance(step, operations.Pause):
                    await asyncio.sleep(step.seconds)
                    continue
                try:
                    reply = await self._call(step, deadline)
                except errors.ServingError as error:
                    failure = error
        except StopIteration as done:
            return done.value

    async def _call(self, call: operations.Call, deadline: float):
        rpc = getattr(self._stubs[SERVICE_OF_METHOD[call.method]], call.method)
        backoffs = self.retry.backoffs() if call.retry else iter(())
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise errors.DeadlineExceeded(
                    f"{call.method} to {self.target}: the deadline passed before the call could start"
                )
            try:
                return await rpc(call.request, timeout=min(remaining, call.timeout or remaining),
                                 metadata=self._call_metadata)
            except grpc.aio.AioRpcError as rpc_error:
                error = error_from_rpc(rpc_error)
            wait = next(backoffs, None) if isinstance(error, errors.Unavailable) else None
            if wait is None or time.monotonic() + wait >= deadline:
                raise error
            await asyncio.sleep(wait)
