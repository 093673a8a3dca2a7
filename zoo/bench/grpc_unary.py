"""The worker half shared by the gRPC protocols: one pre-serialized unary request, sent as is.

Each protocol's parent half builds its request once and serializes it; workers send those bytes
with a grpc.aio channel whose calls skip (de)serialization entirely, so the load generator spends
its CPU on the network, not on protobuf, as perf_analyzer does with pre-generated inputs.
"""

from __future__ import annotations

import asyncio
import dataclasses

import grpc

from zoo.bench.protocols import RequestFailed, Sender

MAX_MESSAGE_BYTES = 512 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class GrpcPlan:
    """What every worker sends: `payload` (a serialized request) to `method` on `target`."""

    target: str
    method: str                      # "/package.Service/Method"
    payload: bytes
    tls: bool = False
    root_certificates: bytes | None = None
    metadata: tuple[tuple[str, str], ...] = ()


class _GrpcSender(Sender):
    def __init__(self, channel: grpc.aio.Channel, plan: GrpcPlan) -> None:
        self._channel = channel
        self._call = channel.unary_unary(plan.method)  # bytes in, bytes out
        self._plan = plan

    async def send(self, timeout: float) -> None:
        try:
            await self._call(self._plan.payload, timeout=timeout, metadata=self._plan.metadata)
        except grpc.aio.AioRpcError as error:
            raise RequestFailed(error.code().name, error.details() or "") from None

    async def close(self) -> None:
        await self._channel.close()


async def open_grpc_sender(plan: GrpcPlan, connect_timeout: float) -> Sender:
    """Connects to `plan.target` within `connect_timeout` seconds (else RequestFailed)."""
    options = [("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
    if plan.tls:
        credentials = grpc.ssl_channel_credentials(root_certificates=plan.root_certificates)
        channel = grpc.aio.secure_channel(plan.target, credentials, options=options)
    else:
        channel = grpc.aio.insecure_channel(plan.target, options=options)
    try:
        await asyncio.wait_for(channel.channel_ready(), connect_timeout)
    except TimeoutError:
        await channel.close()
        raise RequestFailed("UNAVAILABLE", f"could not connect to {plan.target} within {connect_timeout:g} s") from None
    return _GrpcSender(channel, plan)
