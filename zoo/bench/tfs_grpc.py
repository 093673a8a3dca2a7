"""`--protocol tfs-grpc`: TensorFlow Serving's PredictionService/Predict over gRPC.

The parent builds one PredictRequest from the model's metadata and serializes it once; workers
send those bytes with a grpc.aio channel whose calls skip (de)serialization entirely, so the
load generator spends its CPU on the network, not on protobuf, as perf_analyzer does with
pre-generated inputs.
"""

from __future__ import annotations

import asyncio
import dataclasses

import grpc

from zoo.bench.options import BenchOptions
from zoo.bench.protocols import LoadProtocol, RequestFailed, Sender, register_protocol

PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"
MAX_MESSAGE_BYTES = 512 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class TfsGrpcPlan:
    target: str
    payload: bytes                   # a serialized PredictRequest
    tls: bool = False
    root_certificates: bytes | None = None
    metadata: tuple[tuple[str, str], ...] = ()


class _GrpcSender(Sender):
    def __init__(self, channel: grpc.aio.Channel, plan: TfsGrpcPlan) -> None:
        self._channel = channel
        self._predict = channel.unary_unary(PREDICT_METHOD)  # bytes in, bytes out
        self._plan = plan

    async def send(self, timeout: float) -> None:
        try:
            await self._predict(self._plan.payload, timeout=timeout, metadata=self._plan.metadata)
        except grpc.aio.AioRpcError as error:
            raise RequestFailed(error.code().name, error.details() or "") from None

    async def close(self) -> None:
        await self._channel.close()


@register_protocol
class TfsGrpc(LoadProtocol):
    name = "tfs-grpc"

    def prepare(self, options: BenchOptions) -> TfsGrpcPlan:
        from tfzoo_client import Client, TlsConfig
        from tfzoo_client.channel import call_metadata
        from tfzoo_client.conversion import signature_inputs
        from tfzoo_client.messages import ModelRef, predict_request
        from zoo.bench.synthetic import synthetic_inputs

        tls = TlsConfig(root_certificates=options.root_certificates) if options.tls else None
        with Client(options.server, tls=tls, token=options.token, timeout=options.timeout) as client:
            metadata = client.metadata(options.model, version=options.version, label=options.label)
        signature = metadata.signature(options.signature)
        arrays = signature_inputs(synthetic_inputs(signature, options.batch, options.seed), signature)
        ref = ModelRef(options.model, options.version, options.label)
        request = predict_request(ref, options.signature, arrays, output_filter=None)
        return TfsGrpcPlan(
            target=options.server,
            payload=request.SerializeToString(),
            tls=options.tls,
            root_certificates=options.root_certificates,
            metadata=call_metadata(options.token),
        )

    @classmethod
    async def open_sender(cls, plan: TfsGrpcPlan, connect_timeout: float) -> Sender:
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

