"""`--protocol oip-grpc`: the Open Inference Protocol's GRPCInferenceService/ModelInfer.

The protocol KServe, Triton and zoo-serve all speak, so one client can load any of them. The
parent reads the model's inputs from ModelMetadata and builds one ModelInferRequest with random
values in `raw_input_contents` (little-endian bytes, one entry per input, as tritonclient sends
them), serialized once; workers send those bytes (zoo/bench/grpc_unary.py).

The protocol has no version labels, and ModelMetadata describes the model's default signature
only, so this protocol benchmarks that signature, at a version number or the latest.
"""

from __future__ import annotations

import dataclasses

import grpc
import numpy as np

from serving.contract import DEFAULT_SIGNATURE
from zoo.bench.grpc_unary import GrpcPlan, open_grpc_sender
from zoo.bench.options import BenchOptions
from zoo.bench.protocols import LoadProtocol, Sender, register_protocol

SERVICE = "inference.GRPCInferenceService"
MODEL_INFER_METHOD = f"/{SERVICE}/ModelInfer"


@dataclasses.dataclass(frozen=True)
class OipInput:
    """An input as ModelMetadata describes it, in the form zoo.bench.synthetic reads."""

    name: str
    datatype: str
    shape: tuple[int | None, ...]    # None for a dimension of any size (-1 on the wire)
    numpy_dtype: np.dtype


@register_protocol
class OipGrpc(LoadProtocol):
    name = "oip-grpc"

    def prepare(self, options: BenchOptions) -> GrpcPlan:
        from serving.apis.oip import datatypes
        from tfzoo_client.channel import call_metadata
        from serving.transports.grpc import grpc_predict_v2_pb2 as pb2
        from zoo.bench.synthetic import synthetic_tensor

        if options.label is not None:
            raise ValueError(f"the Open Inference Protocol has no version labels; pass a version "
                             f"number instead. Received: label={options.label!r}")
        if options.signature != DEFAULT_SIGNATURE:
            raise ValueError(f"oip-grpc benchmarks the model's default signature "
                             f"({DEFAULT_SIGNATURE}). Received: signature={options.signature!r}")
        version = "" if options.version is None else str(options.version)
        metadata = call_metadata(options.token)
        inputs = read_inputs(options, version, metadata)
        rng = np.random.default_rng(options.seed)
        request = pb2.ModelInferRequest(model_name=options.model, model_version=version)
        for tensor in inputs:
            array = synthetic_tensor(tensor, options.batch, rng)
            request.inputs.add(name=tensor.name, datatype=tensor.datatype, shape=array.shape)
            request.raw_input_contents.append(datatypes.encode_raw(array))
        return GrpcPlan(
            target=options.server,
            method=MODEL_INFER_METHOD,
            payload=request.SerializeToString(),
            tls=options.tls,
            root_certificates=options.root_certificates,
            metadata=metadata,
        )

    @classmethod
    async def open_sender(cls, plan: GrpcPlan, connect_timeout: float) -> Sender:
        return await open_grpc_sender(plan, connect_timeout)


def read_inputs(options: BenchOptions, version: str,
                metadata: tuple[tuple[str, str], ...]) -> list[OipInput]:
    """The model's inputs from ModelMetadata; a failed call raises the client's typed error."""
    from serving.apis.oip import datatypes
    from tfzoo_client.channel import check_target
    from tfzoo_client.errors import error_from_rpc
    from serving.transports.grpc import grpc_predict_v2_pb2 as pb2
    from serving.transports.grpc import grpc_predict_v2_pb2_grpc as pb2_grpc

    target = check_target(options.server)
    if options.tls:
        credentials = grpc.ssl_channel_credentials(root_certificates=options.root_certificates)
        channel = grpc.secure_channel(target, credentials)
    else:
        channel = grpc.insecure_channel(target)
    with channel:
        try:
            answer = pb2_grpc.GRPCInferenceServiceStub(channel).ModelMetadata(
                pb2.ModelMetadataRequest(name=options.model, version=version),
                timeout=options.timeout, metadata=metadata)
        except grpc.RpcError as error:
            raise error_from_rpc(error) from error
    return [OipInput(tensor.name, tensor.datatype,
                     tuple(None if size < 0 else size for size in tensor.shape),
                     datatypes.datatype(tensor.datatype, input_name=tensor.name).numpy_dtype)
            for tensor in answer.inputs]

