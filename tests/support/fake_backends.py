"""Fake model versions for the model core tests: real version directories, no SavedModel.

TF Serving tests its manager with fake loaders (core/test_util/fake_loader.h); these are ours.
A version directory holds one small JSON file, `fake_model.json`, and `FakeLoader.load` (a
ModelManager's load function) builds what it says: a Servable over a FakeBackend computing
`y = slope * x + offset` with numpy, or a ServableLoadError with the status code it names. The
directories are real, so the manager's polling, version policies, deleted versions and the
fingerprints of rewritten files are exercised as in production; only TensorFlow's loading and
running are replaced. SignatureDefs are built by hand, in the shapes of the test SavedModels
(tests/support/savedmodels.py): `half_plus_two_backend` and `multi_io_backend`.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import tempfile
import threading
from typing import Callable, Mapping

import grpc
import numpy as np
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from serving import contract, errors
from serving.core import SAVED_MODEL, Servable, ServableLoadError

FAKE_MODEL_FILE = "fake_model.json"

# The entry TF2 exports list in saved_model.pb beside their signatures, which cannot be run.
INIT_OP_SIGNATURE = "__saved_model_init_op"

SignatureFunction = Callable[..., Mapping[str, np.ndarray]]


def signature_def(inputs: Mapping[str, tuple[int, list[int]]],
                  outputs: Mapping[str, tuple[int, list[int]]]) -> meta_graph_pb2.SignatureDef:
    """A Predict SignatureDef from alias -> (DataType enum, shape) maps; -1 in a shape is a
    dimension of any size."""
    signature = meta_graph_pb2.SignatureDef(method_name=contract.PREDICT_METHOD)
    for tensors, infos in ((inputs, signature.inputs), (outputs, signature.outputs)):
        for alias, (dtype, shape) in tensors.items():
            infos[alias].name = f"{alias}:0"
            infos[alias].dtype = dtype
            for size in shape:
                infos[alias].tensor_shape.dim.add(size=size)
    return signature


def _init_op_signature() -> meta_graph_pb2.SignatureDef:
    """The init op's entry as TF2 writes it: no inputs, no method name, one output "NoOp"."""
    signature = meta_graph_pb2.SignatureDef()
    signature.outputs[INIT_OP_SIGNATURE].name = "NoOp"
    signature.outputs[INIT_OP_SIGNATURE].tensor_shape.unknown_rank = True
    return signature


class FakeBackend:
    """A serving.core Backend whose signatures are numpy functions of their inputs.

    `functions` maps each runnable signature to `function(**feeds) -> {alias: array}`; values
    it cannot compute (numpy raises ValueError) are InvalidArgument, as from a real runtime.
    `signature_defs` may also list entries that are not runnable. `calls` counts runs per
    signature; `unloaded` says whether the manager let go of it.
    """

    model_format = SAVED_MODEL

    def __init__(self, signature_defs: Mapping[str, meta_graph_pb2.SignatureDef],
                 functions: Mapping[str, SignatureFunction]):
        self.signature_defs = dict(signature_defs)
        self.runnable_signatures = frozenset(functions)
        self._functions = dict(functions)
        self.calls: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self.unloaded = False

    def run(self, signature_name: str, feeds: Mapping[str, np.ndarray],
            output_aliases) -> dict[str, np.ndarray]:
        assert not self.unloaded, "run() after unload()"
        with self._lock:
            self.calls[signature_name] += 1
        try:
            outputs = self._functions[signature_name](**feeds)
        except (TypeError, ValueError) as error:  # as a runtime refuses values it cannot compute
            raise errors.InvalidArgument(f'signature "{signature_name}": {error}') from error
        return {alias: outputs[alias] for alias in output_aliases}

    def unload(self) -> None:
        self.unloaded = True


def half_plus_two_backend(slope: float = 0.5, offset: float = 2.0) -> FakeBackend:
    """export_half_plus_two's signatures: `serving_default` x float[-1] -> y = slope * x + offset,
    and TF2's non-runnable init op."""
    vector = (types_pb2.DT_FLOAT, [-1])
    return FakeBackend(
        {contract.DEFAULT_SIGNATURE: signature_def({"x": vector}, {"y": vector}),
         INIT_OP_SIGNATURE: _init_op_signature()},
        {contract.DEFAULT_SIGNATURE: lambda x: {"y": np.float32(slope) * x + np.float32(offset)}})


def multi_io_backend() -> FakeBackend:
    """export_multi_io's signatures: `serving_default` takes features float[-1,3], ids int64[-1]
    and names string[-1] and returns total (row sum plus id), doubled_ids and greeting
    (b"hello " + name); `sum_only` takes features and returns total (the row sum)."""
    features = {"features": (types_pb2.DT_FLOAT, [-1, 3])}
    total = {"total": (types_pb2.DT_FLOAT, [-1])}

    def serve(features, ids, names):
        return {"total": features.sum(axis=1) + ids.astype(np.float32),
                "doubled_ids": ids * 2,
                "greeting": np.array([b"hello " + name for name in names], dtype=object)}

    return FakeBackend(
        {contract.DEFAULT_SIGNATURE: signature_def(
            {**features, "ids": (types_pb2.DT_INT64, [-1]), "names": (types_pb2.DT_STRING, [-1])},
            {**total, "doubled_ids": (types_pb2.DT_INT64, [-1]),
             "greeting": (types_pb2.DT_STRING, [-1])}),
         "sum_only": signature_def(features, total)},
        {contract.DEFAULT_SIGNATURE: serve,
         "sum_only": lambda features: {"total": features.sum(axis=1)}})


def write_version(base_path, version: int, *, slope: float = 0.5, offset: float = 2.0,
                  fail: grpc.StatusCode | None = None) -> str:
    """Writes `<base_path>/<version>/fake_model.json` and returns the version directory.

    The version serves `y = slope * x + offset`, or, with `fail`, its load raises a
    ServableLoadError with that code. Like the SavedModel exporters, the directory is written
    aside and renamed into place, so a polling manager never sees half of it; an existing version
    is replaced (new files, so a new fingerprint).
    """
    description = {"fail": fail.name} if fail is not None else {"slope": slope, "offset": offset}
    base_path = os.fspath(base_path)
    path = os.path.join(base_path, str(version))
    os.makedirs(base_path, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=base_path)  # not a number: not a version
    try:
        with open(os.path.join(staging, FAKE_MODEL_FILE), "w", encoding="utf-8") as file:
            json.dump(description, file)
        shutil.rmtree(path, ignore_errors=True)
        os.rename(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


class FakeLoader:
    """A ModelManager's load function for directories written by `write_version`.

    `loads` lists every attempt as (name, version), failed ones included; `servables` every
    Servable built, so a test can look at their backends.
    """

    def __init__(self):
        self.loads: list[tuple[str, int]] = []
        self.servables: list[Servable] = []

    def load(self, name: str, version: int, path: str) -> Servable:
        self.loads.append((name, version))
        with open(os.path.join(path, FAKE_MODEL_FILE), encoding="utf-8") as file:
            description = json.load(file)
        if "fail" in description:
            raise ServableLoadError(f"Fake load failure of {path}",
                                    grpc.StatusCode[description["fail"]])
        servable = Servable(name, version, path,
                            half_plus_two_backend(description["slope"], description["offset"]))
        self.servables.append(servable)
        return servable
