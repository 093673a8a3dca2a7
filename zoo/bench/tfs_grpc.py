"""`--protocol tfs-grpc`: TensorFlow Serving's PredictionService/Predict over gRPC.

The parent builds one PredictRequest from the model's metadata and serializes it once; workers
send those bytes (zoo/bench/grpc_unary.py).
"""

from __future__ import annotations

from zoo.bench.grpc_unary import GrpcPlan, open_grpc_sender
from zoo.bench.options import BenchOptions
from zoo.bench.protocols import LoadProtocol, Sender, register_protocol

PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"


@register_protocol
class TfsGrpc(LoadProtocol):
    name = "tfs-grpc"

    def prepare(self, options: BenchOptions) -> GrpcPlan:
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
        return GrpcPlan(
            target=options.server,
            method=PREDICT_METHOD,
            payload=request.SerializeToString(),
            tls=options.tls,
            root_certificates=options.root_certificates,
            metadata=call_metadata(options.token),
        )

    @classmethod
    async def open_sender(cls, plan: GrpcPlan, connect_timeout: float) -> Sender:
        return await open_grpc_sender(plan, connect_timeout)
