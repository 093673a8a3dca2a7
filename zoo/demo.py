"""`make demo`: the whole job end to end, offline.

Train the zoo's CNN on scikit-learn's bundled digits, export it as a SavedModel, start
`zoo-serve` on it, query it over gRPC with TensorFlow Serving's own client stubs, and print
predictions next to the true labels with the served and in-process accuracy.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from serving.tensorflow_startup import find_devices, import_tensorflow
from zoo.launch.cluster import free_ports

PREVIEW = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="runs/demo", help="where the run and the export go")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--verbose", action="store_true",
                        help="also show TensorFlow's own C++ logs, here and in zoo-serve (which inherits "
                        "TF_CPP_MIN_LOG_LEVEL=0)")
    args = parser.parse_args(argv)
    import_tensorflow(verbose=args.verbose)
    print(f"devices: {find_devices().describe()}")

    from zoo.train import TrainConfig
    from zoo.train.trainer import train

    workdir = Path(args.workdir)
    export_base = workdir / "models"
    print("== 1/3 train the CNN on digits (offline, scikit-learn's bundled 8x8 digits)")
    result = train(
        TrainConfig(
            model="cnn",
            dataset="digits",
            epochs=args.epochs,
            batch_size=32,
            learning_rate=2e-3,
            strategy="default",
            workdir=str(workdir / "run"),
            export_base=str(export_base),
            export_name="digits_cnn",
            verbose=2,
        )
    )
    print(result.summary_table())
    in_process = result.test_metrics["accuracy"]
    print(f"\n== 2/3 exported {result.export_dir}; starting zoo-serve")

    [port] = free_ports(1)
    server = subprocess.Popen(
        [sys.executable, "-m", "serving", f"--port={port}", "--grpc_bind_address=127.0.0.1",
         "--model_name=digits_cnn", f"--model_base_path={export_base / 'digits_cnn'}"],
    )
    try:
        served = query_server(port, result.dataset, result.export_dir)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    print(f"zoo-serve stopped (exit code {code})")

    print(f"\nserved accuracy {served:.4f}  in-process accuracy {in_process:.4f}  "
          f"({len(result.dataset.x_test)} test images)")
    if abs(served - in_process) > 1e-6:
        print("ERROR: the served model disagrees with the in-process model", file=sys.stderr)
        return 1
    if served < 0.95:
        print(f"ERROR: accuracy {served:.4f} is below the demo's 0.95 bar", file=sys.stderr)
        return 1
    return code


def query_server(port: int, dataset, export_dir: Path) -> float:
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    print("== 3/3 query it over gRPC with tensorflow_serving.apis")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=60)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    class_names = dataset.spec.class_names
    predicted = []
    for start in range(0, len(dataset.x_test), 64):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "digits_cnn"
        request.inputs[dataset.spec.input_name].CopyFrom(
            tf.make_tensor_proto(dataset.x_test[start : start + 64].astype(np.float32))
        )
        response = call_when_ready(stub.Predict, request)
        predicted.append(tf.make_ndarray(response.outputs["classes"]))
        version = response.model_spec.version.value
    predicted = np.concatenate(predicted)
    print(f"served by digits_cnn version {version}; first {PREVIEW} test images:")
    for i in range(PREVIEW):
        mark = "ok" if predicted[i] == dataset.y_test[i] else "WRONG"
        print(f"  image {i:2d}: predicted {class_names[predicted[i]]}  true {class_names[dataset.y_test[i]]}  {mark}")
    channel.close()
    return float(np.mean(predicted == dataset.y_test))


def call_when_ready(method, request, timeout: float = 60.0):
    """The server answers UNAVAILABLE/NOT_FOUND until the model has loaded; wait for it."""
    import grpc

    deadline = time.monotonic() + timeout
    while True:
        try:
            return method(request, timeout=10)
        except grpc.RpcError as error:
            retryable = error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND)
            if not retryable or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
