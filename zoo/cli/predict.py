"""`zoo predict`: query a served model with image, .npy, CSV or JSON inputs from the shell."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from typing import Any, Sequence

import numpy as np

from tfzoo_client.contract import DEFAULT_SIGNATURE
from zoo.cli.parser import positive_float, positive_int
from zoo.errors import ConfigError, ZooError

# Output names a classifier's probabilities go by: the zoo's exports, then TF Serving's classify.
SCORE_OUTPUTS = ("probabilities", "scores")
MAX_VALUES_SHOWN = 10


def add_parsers(subparsers) -> None:
    predict = subparsers.add_parser(
        "predict",
        help="send inputs to a model on a TF Serving-compatible server and print its predictions",
        description="Query MODEL on a gRPC server (zoo-serve or tensorflow_model_server) with each "
        "INPUT: an image (PNG/JPEG, decoded and resized to the model's input as its metadata says), "
        "a .npy array, a CSV file (one example per row) or - for JSON on stdin (a list of examples, "
        '{"instances": [...]} or {"inputs": ...}). Prints the top classes with their labels and '
        "probabilities for classifiers, the output values otherwise.",
    )
    predict.add_argument("inputs", nargs="+", metavar="INPUT", help="image, .npy, .csv, .json file or -")
    predict.add_argument("--server", required=True, metavar="HOST:PORT", help="the server's gRPC address")
    predict.add_argument("--model", required=True, help="the model's name on the server")
    selector = predict.add_mutually_exclusive_group()
    selector.add_argument("--version", type=positive_int, help="a specific version (default: the latest)")
    selector.add_argument("--label", help="a version label, e.g. stable or canary")
    predict.add_argument("--signature", default=DEFAULT_SIGNATURE, help="signature to run (default: %(default)s)")
    predict.add_argument("--top-k", type=positive_int, default=5, help="classes shown per example (default: %(default)s)")
    predict.add_argument("--labels", metavar="FILE", help="class names, one a line, when the server does not send them")
    predict.add_argument("--json", action="store_true", help="print machine-readable JSON")
    predict.add_argument("--timeout", type=positive_float, default=30.0, help="seconds per request (default: %(default)s)")
    add_connection_arguments(predict)
    predict.set_defaults(handler=run_predict)  # the light client: no TensorFlow


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """TLS and token flags, shared with `zoo bench`."""
    parser.add_argument("--tls", action="store_true", help="connect with TLS (system root certificates by default)")
    parser.add_argument("--ca-cert", metavar="PEM", help="root certificates to trust (implies --tls)")
    parser.add_argument("--token", help="bearer token sent as `authorization: Bearer TOKEN`")


def read_root_certificates(args: argparse.Namespace) -> bytes | None:
    if not args.ca_cert:
        return None
    try:
        with open(args.ca_cert, "rb") as file:
            return file.read()
    except OSError as error:
        raise ConfigError(f"--ca-cert {args.ca_cert}: {error.strerror}") from None


def run_predict(args: argparse.Namespace) -> int:
    from tfzoo_client import Client, TlsConfig
    from tfzoo_client.errors import ServingError

    root_certificates = read_root_certificates(args)
    tls = TlsConfig(root_certificates=root_certificates) if (args.tls or root_certificates) else None
    file_labels = _read_labels(args.labels) if args.labels else None
    try:
        with Client(args.server, tls=tls, token=args.token, timeout=args.timeout) as client:
            metadata = client.metadata(args.model, version=args.version, label=args.label)
            signature = metadata.signature(args.signature)
            labels = file_labels or metadata.labels or _card_labels(metadata.model_card)
            records = []
            for source in args.inputs:
                batch = _read(source, signature)
                outputs = client.predict(args.model, batch.inputs, version=args.version, label=args.label,
                                         signature=args.signature)
                records.extend(_records(batch.source, outputs, labels, args.top_k))
    except ServingError as error:
        raise ZooError(f"{error.code.name}: {error.message}") from None
    except ValueError as error:  # the client's argument checks, e.g. a malformed --server
        raise ConfigError(str(error)) from None
    if args.json:
        print(json.dumps({"model": metadata.name, "version": metadata.version, "predictions": records}, indent=2))
    else:
        print(_text(records))
    return 0


def _read(source: str, signature):
    from tfzoo_client.input_files import InputFileError, read_input

    try:
        return read_input(source, signature, stdin=sys.stdin)
    except InputFileError as error:
        raise ConfigError(str(error)) from None


def _read_labels(path: str) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf-8") as file:
            return tuple(line.strip() for line in file if line.strip())
    except OSError as error:
        raise ConfigError(f"--labels {path}: {error.strerror}") from None


def _card_labels(card: dict | None) -> tuple[str, ...] | None:
    names = ((card or {}).get("data_spec") or {}).get("class_names")
    return tuple(names) if names else None


def _records(source: str, outputs: dict[str, np.ndarray], labels: Sequence[str] | None, top_k: int) -> list[dict]:
    """One record per example: its top-k classes when the model outputs class scores, else its
    output values."""
    scores_name = next((name for name in SCORE_OUTPUTS if name in outputs and outputs[name].ndim == 2), None)
    count = len(next(iter(outputs.values()))) if outputs else 0
    records = []
    for index in range(count):
        record: dict[str, Any] = {"input": source, "example": index}
        if scores_name is not None:
            record["top_k"] = _top_k(outputs[scores_name][index], labels, top_k)
        else:
            record["outputs"] = {name: _jsonable(values[index]) for name, values in outputs.items()}
        records.append(record)
    return records


def _top_k(scores: np.ndarray, labels: Sequence[str] | None, k: int) -> list[dict]:
    order = np.argsort(-scores, kind="stable")[:k]
    return [
        {
            "class": int(i),
            "label": labels[i] if labels is not None and i < len(labels) else f"class {i}",
            "probability": float(scores[i]),
        }
        for i in order
    ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_jsonable(item) for item in value.tolist()] if value.dtype == object else value.tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _text(records: list[dict]) -> str:
    lines = []
    examples_per_input = collections.Counter(record["input"] for record in records)
    for record in records:
        name = record["input"]
        if examples_per_input[name] > 1:
            name = f"{name}[{record['example']}]"
        if "top_k" in record:
            lines.append(f"{name}:")
            width = max(len(item["label"]) for item in record["top_k"])
            lines.extend(f"  {item['label']:<{width}}  {item['probability']:.4f}" for item in record["top_k"])
        else:
            values = "  ".join(f"{key}={_format_values(value)}" for key, value in record["outputs"].items())
            lines.append(f"{name}: {values}")
    return "\n".join(lines)


def _format_values(value: Any) -> str:
    flat = np.asarray(value, dtype=object).ravel().tolist() if isinstance(value, list) else [value]
    shown = [f"{v:.6g}" if isinstance(v, float) else str(v) for v in flat[:MAX_VALUES_SHOWN]]
    text = ", ".join(shown) + (f", ... ({len(flat)} values)" if len(flat) > MAX_VALUES_SHOWN else "")
    return f"[{text}]" if isinstance(value, list) else text
