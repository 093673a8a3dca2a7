"""The fastest a Python gRPC PredictionService can answer on this machine: the benchmark's floor.

    python benchmarks/grpc_floor_server.py --port 8500 --saved-model models/cnn/1

It serves TF Serving's PredictionService with grpcio's asyncio server on the same event loop as
zoo-serve (uvloop's where installed: serving/transports/event_loops.py), but runs no model:
Predict deserializes the request and answers a response built once at start (the signature's
outputs at batch 1, zeros), and GetModelMetadata answers the SavedModel's signatures so that
`zoo bench` can build its requests. benchmarks/serving.py drives it like the real server; the
real server's QPS over this one's is the share of the headroom it uses, and what is left between
this and the in-process limit is the price of gRPC and Python themselves (and of the load
generator, which shares the cores).

It prints "serving on HOST:PORT" once it listens, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)

# Run as `python benchmarks/grpc_floor_server.py`, this file's directory comes first on sys.path,
# where `import serving` would find benchmarks/serving.py instead of the server package.
sys.path[:] = [entry for entry in sys.path
               if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from serving.transports.event_loops import new_event_loop  # noqa: E402


def signature_defs(saved_model_dir: Path) -> dict:
    saved_model = saved_model_pb2.SavedModel.FromString((saved_model_dir / "saved_model.pb").read_bytes())
    [meta_graph] = [graph for graph in saved_model.meta_graphs if "serve" in graph.meta_info_def.tags]
    return dict(meta_graph.signature_def)


def batch_one_outputs(signature) -> dict:
    """Each output of `signature` as a zero TensorProto at batch 1 (unknown dimensions become 1)."""
    return {alias: tf.make_tensor_proto(np.zeros([max(1, dim.size) for dim in info.tensor_shape.dim],
                                                 tf.as_dtype(info.dtype).as_numpy_dtype))
            for alias, info in signature.outputs.items()}


class FloorPredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict answers one fixed response; GetModelMetadata answers the model's signatures."""

    def __init__(self, model_name: str, signatures: dict):
        self._response = predict_pb2.PredictResponse()
        self._response.model_spec.name = model_name
        self._response.model_spec.version.value = 1
        self._response.model_spec.signature_name = "serving_default"
        for alias, tensor in batch_one_outputs(signatures["serving_default"]).items():
            self._response.outputs[alias].CopyFrom(tensor)
        self._metadata = get_model_metadata_pb2.GetModelMetadataResponse()
        self._metadata.model_spec.name = model_name
        self._metadata.model_spec.version.value = 1
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in signatures.items():
            signature_map.signature_def[key].CopyFrom(signature)
        self._metadata.metadata["signature_def"].Pack(signature_map)

    async def Predict(self, request, context):
        return self._response

    async def GetModelMetadata(self, request, context):
        return self._metadata


async def serve(service: FloorPredictionService, address: str) -> None:
    """Serves until SIGTERM or SIGINT."""
    server = grpc.aio.server()
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(service, server)
    server.add_insecure_port(address)
    await server.start()
    stopping = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signal_number, stopping.set)
    print(f"serving on {address}", flush=True)
    await stopping.wait()
    await server.stop(grace=1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--saved-model", type=Path, required=True, help="a SavedModel version directory")
    parser.add_argument("--model-name", default="model", help="the name in answers (any name is served)")
    options = parser.parse_args(argv)
    if not (options.saved_model / "saved_model.pb").is_file():
        parser.error(f"--saved-model {options.saved_model} has no saved_model.pb; pass a version directory")

    service = FloorPredictionService(options.model_name, signature_defs(options.saved_model))
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(serve(service, f"{options.host}:{options.port}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
