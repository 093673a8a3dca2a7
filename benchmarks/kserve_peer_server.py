"""KServe's side of benchmarks/peers.py: one SavedModel behind a custom `kserve.Model`.

    PEER_VENV/bin/python benchmarks/kserve_peer_server.py --model_name cnn \\
        --saved_model_dir models/cnn/1 --http_port 8080 --grpc_port 8081

KServe's Python server has no TensorFlow runtime of its own (KServe serves SavedModels by
running TF Serving itself), so a KServe user who wants a Python server writes this: a
`kserve.Model` whose `load()` calls `tf.saved_model.load` and whose `predict()` calls the
`serving_default` signature. It answers

- the Open Inference Protocol (v2) over gRPC and REST: `ModelInfer` feeds each input to the
  signature input of that name and answers every signature output, in binary form when the
  request came in binary (raw_input_contents), as KServe does for raw requests;
- KServe's REST v1, `POST /v1/models/NAME:predict` with TF Serving's row form
  `{"instances": [...]}`, answering `{"predictions": [...]}` (one value per row for a single
  output, one object of outputs per row otherwise);
- ModelMetadata with the signature's inputs and outputs, so a load generator can shape requests.

It runs in KServe's own virtualenv (benchmarks/peers.py installs it) and imports kserve,
tensorflow and numpy, nothing of this repository.

So that the comparison measures the servers and not their settings:
- per-request logging is off, with KServe's own flags (`--enable_latency_logging=false`,
  `--configure_logging=false`, which peers.py passes): zoo-serve logs no line per request either;
- TensorFlow's thread pools follow `--tensorflow_intra_op_parallelism` and
  `--tensorflow_inter_op_parallelism`, named and meant as zoo-serve's flags;
- KServe binds its listeners to every interface (0.0.0.0 and [::], not configurable); this script
  narrows them to `--bind_address` (default 127.0.0.1) and changes nothing else.

Every other setting is KServe's default (one uvicorn worker, gRPC on grpc.aio, the same event loop
for both). KServe stops it on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import grpc  # noqa: E402
import kserve  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import uvicorn  # noqa: E402
from kserve import InferOutput, InferRequest, InferResponse  # noqa: E402
from kserve.errors import InvalidInput  # noqa: E402
from kserve.utils.numpy_codec import from_np_dtype  # noqa: E402

SIGNATURE = "serving_default"


class SavedModelPredictor(kserve.Model):
    """A TensorFlow SavedModel's serving_default signature as a KServe model."""

    def __init__(self, name: str, saved_model_dir: str) -> None:
        super().__init__(name)
        self.saved_model_dir = saved_model_dir
        self.function = None
        self.input_specs: dict[str, tf.TensorSpec] = {}
        self.output_specs: dict[str, tf.TensorSpec] = {}

    def load(self) -> bool:
        self.function = tf.saved_model.load(self.saved_model_dir).signatures[SIGNATURE]
        self.input_specs = dict(self.function.structured_input_signature[1])
        self.output_specs = dict(self.function.structured_outputs)
        self.ready = True
        return self.ready

    def get_input_types(self) -> list[dict]:
        return _tensor_types(self.input_specs)

    def get_output_types(self) -> list[dict]:
        return _tensor_types(self.output_specs)

    def predict(self, payload, headers=None):
        if isinstance(payload, InferRequest):
            return self._infer(payload)
        return self._predict_instances(payload)

    def _infer(self, request: InferRequest) -> InferResponse:
        arrays = {tensor.name: tensor.as_numpy() for tensor in request.inputs}
        missing = sorted(set(self.input_specs) - set(arrays))
        if missing:
            raise InvalidInput(f"missing inputs {missing}; the signature takes "
                               f"{sorted(self.input_specs)}")
        binary = request.use_binary_outputs
        outputs = []
        for name, array in self._call(arrays).items():
            output = InferOutput(name, list(array.shape), from_np_dtype(array.dtype))
            output.set_data_from_numpy(array, binary_data=binary)
            outputs.append(output)
        return InferResponse(request.id, self.name, outputs, use_binary_outputs=binary)

    def _predict_instances(self, body: dict) -> dict:
        instances = body.get("instances") if isinstance(body, dict) else None
        if not isinstance(instances, list):
            raise InvalidInput('Expected a JSON object with an "instances" list')
        if len(self.input_specs) != 1:
            raise InvalidInput("this model server takes the row form for one-input signatures only")
        [(name, spec)] = self.input_specs.items()
        outputs = self._call({name: np.asarray(instances, dtype=spec.dtype.as_numpy_dtype)})
        if len(outputs) == 1:
            [array] = outputs.values()
            return {"predictions": array.tolist()}
        columns = {key: array.tolist() for key, array in outputs.items()}
        return {"predictions": [dict(zip(columns, row)) for row in zip(*columns.values())]}

    def _call(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            results = self.function(**{name: tf.constant(array) for name, array in arrays.items()})
        except (TypeError, ValueError, tf.errors.InvalidArgumentError) as error:
            raise InvalidInput(str(error)) from None
        return {name: tensor.numpy() for name, tensor in results.items()}


def _tensor_types(specs: dict) -> list[dict]:
    return [{"name": name, "datatype": from_np_dtype(spec.dtype.as_numpy_dtype),
             "shape": [-1 if size is None else size for size in spec.shape.as_list()]}
            for name, spec in specs.items()]


def listen_on(address: str) -> None:
    """Makes KServe's uvicorn and gRPC listeners bind `address` instead of every interface."""
    config_init = uvicorn.Config.__init__

    def bound_config(self, *args, **kwargs):
        config_init(self, *args, **{**kwargs, "host": address})

    uvicorn.Config.__init__ = bound_config
    make_server = grpc.aio.server

    def bound_server(*args, **kwargs):
        server = make_server(*args, **kwargs)
        add_insecure_port = server.add_insecure_port
        server.add_insecure_port = lambda target: add_insecure_port(
            f"{address}:{target.rsplit(':', 1)[1]}")
        return server

    grpc.aio.server = bound_server


def main() -> None:
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser],
                                     description=__doc__.splitlines()[0])
    # --model_name, --http_port, --grpc_port and the rest are KServe's own flags.
    parser.add_argument("--saved_model_dir", required=True,
                        help="the SavedModel directory (the one holding saved_model.pb)")
    parser.add_argument("--bind_address", default="127.0.0.1")
    parser.add_argument("--tensorflow_intra_op_parallelism", type=int, default=0)
    parser.add_argument("--tensorflow_inter_op_parallelism", type=int, default=0)
    arguments, _ = parser.parse_known_args()
    tf.config.threading.set_intra_op_parallelism_threads(arguments.tensorflow_intra_op_parallelism)
    tf.config.threading.set_inter_op_parallelism_threads(arguments.tensorflow_inter_op_parallelism)
    listen_on(arguments.bind_address)
    model = SavedModelPredictor(arguments.model_name, arguments.saved_model_dir)
    model.load()
    kserve.ModelServer().start([model])


if __name__ == "__main__":
    main()
