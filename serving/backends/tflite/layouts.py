"""What a TF Lite model's signatures look like, read from an interpreter, and as SignatureDefs.

The front ends (TF Serving's GetModelMetadata, KServe v2 metadata, REST) and the request checks
in serving/core/signature_check.py all speak SignatureDef, so every TF Lite signature is described
as one: TF dtypes, and shapes from TF Lite's `shape_signature`, where -1 marks a dimension the
model accepts at any size (the batch, usually).

A model converted with signatures (tf.lite.TFLiteConverter keeps a SavedModel's) is described
signature by signature. A model without any (old converters) gets one `serving_default` built
from its main graph's inputs and outputs, named after the tensors without the ":0" suffix, as
TF Serving does for such models (tflite_session.cc).

TF Lite keeps no method name, so it is inferred from the aliases TensorFlow's own
classification and regression SignatureDefs use: one string input "inputs" with outputs "classes"
and/or "scores" is a classify signature, with the output "outputs" a regress one; anything else
is predict.

A model that embeds the TensorFlow SignatureDefs it was converted from (signature_metadata.py) is
described by those instead, as TF Serving does: their keys, aliases, method names, dtypes and
shapes are what clients see. Each TensorInfo names an input or output of the main graph, either
exactly or, for converters that dropped TensorFlow's ":0" suffix, by the part of its name before
the first ":"; it is renamed to the TF Lite tensor it resolved to. TF Lite's own signatures of
such a model are not served, as in TF Serving.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from serving import contract


class UnsupportedTensorType(ValueError):
    """A signature tensor whose TF Lite type has no TensorFlow dtype (e.g. a resource)."""


@dataclasses.dataclass(frozen=True)
class TensorLayout:
    """One input or output of a signature, as the interpreter reports it."""

    name: str  # the TF Lite tensor name, e.g. "serving_default_image:0"
    index: int  # the tensor's index in the signature's subgraph
    dtype: np.dtype  # what TF Lite takes and returns; np.bytes_ for strings
    shape: tuple[int, ...]  # TF Lite's shape_signature: -1 for a dimension of any size

    @property
    def has_batch_dimension(self) -> bool:
        """A leading dimension of any size, along which examples can be split and joined."""
        return bool(self.shape) and self.shape[0] == -1

    @property
    def is_string(self) -> bool:
        return self.dtype.kind in ("S", "O", "U")


@dataclasses.dataclass(frozen=True)
class SignatureLayout:
    """One servable signature: its tensors by alias, and how to run it."""

    key: str
    inputs: Mapping[str, TensorLayout]
    outputs: Mapping[str, TensorLayout]
    # False for a signature that is not one of TF Lite's (the serving_default made up for a model
    # without signatures, or a SignatureDef the model embeds): it runs the main graph through
    # the interpreter's tensor API instead of a SignatureRunner.
    has_runner: bool = True
    # The SignatureDef the model embeds under `key`, its tensor names resolved; None when the
    # signature is described from its TF Lite tensors.
    embedded: object | None = None

    @property
    def batch_splittable(self) -> bool:
        """Whether a batch may be cut into parts run separately and joined back along dim 0.

        Only when every input and output has a batch dimension: a tensor without one (a
        vocabulary, a scalar setting, a summary of the whole batch) means the rows depend on
        each other or cannot be joined.
        """
        tensors = [*self.inputs.values(), *self.outputs.values()]
        return bool(self.inputs) and all(tensor.has_batch_dimension for tensor in tensors)

    def signature_def(self):
        """The SignatureDef proto GetModelMetadata returns and requests are checked against."""
        from tensorflow.core.protobuf import meta_graph_pb2

        if self.embedded is not None:
            signature_def = meta_graph_pb2.SignatureDef()
            signature_def.CopyFrom(self.embedded)  # the layout stays as it was read
            return signature_def
        signature_def = meta_graph_pb2.SignatureDef(method_name=self._method_name())
        for aliases, target in ((self.inputs, signature_def.inputs),
                                (self.outputs, signature_def.outputs)):
            for alias, tensor in aliases.items():
                _fill_tensor_info(target[alias], tensor, f"signature {self.key!r} tensor {alias!r}")
        return signature_def

    def _method_name(self) -> str:
        example_input = self.inputs.get(contract.EXAMPLES_INPUT)
        if len(self.inputs) != 1 or example_input is None or not example_input.is_string:
            return contract.PREDICT_METHOD
        outputs = set(self.outputs)
        if outputs and outputs <= {contract.CLASSES_OUTPUT, contract.SCORES_OUTPUT}:
            return contract.CLASSIFY_METHOD
        if outputs == {contract.REGRESSION_OUTPUT}:
            return contract.REGRESS_METHOD
        return contract.PREDICT_METHOD


def read_layouts(interpreter, embedded: Mapping[str, object]) -> dict[str, SignatureLayout]:
    """Every signature of a tf.lite.Interpreter's model, by key (see the module docstring).

    `embedded` are the SignatureDefs the model embeds (signature_metadata.read_signature_def_map),
    served instead of TF Lite's signatures when there are any.

    Raises:
        ValueError: an embedded TensorInfo names no input or output of the main graph, or
            declares another dtype than the TF Lite tensor it names.
    """
    if embedded:
        return {key: _embedded_layout(key, signature_def, interpreter)
                for key, signature_def in sorted(embedded.items())}
    keys = sorted(interpreter.get_signature_list())
    if not keys:
        return {contract.DEFAULT_SIGNATURE: SignatureLayout(
            key=contract.DEFAULT_SIGNATURE,
            inputs=_by_legacy_alias(interpreter.get_input_details()),
            outputs=_by_legacy_alias(interpreter.get_output_details()),
            has_runner=False,
        )}
    layouts = {}
    for key in keys:
        runner = interpreter.get_signature_runner(key)
        layouts[key] = SignatureLayout(
            key=key,
            inputs={alias: _tensor_layout(details)
                    for alias, details in runner.get_input_details().items()},
            outputs={alias: _tensor_layout(details)
                     for alias, details in runner.get_output_details().items()},
        )
    return layouts


def _embedded_layout(key: str, embedded, interpreter) -> SignatureLayout:
    """The layout of one embedded SignatureDef, run on the main graph's tensors it names."""
    from tensorflow.core.protobuf import meta_graph_pb2

    signature_def = meta_graph_pb2.SignatureDef()
    signature_def.CopyFrom(embedded)
    return SignatureLayout(
        key=key,
        inputs=_resolve_tensors(key, "input", signature_def.inputs,
                                interpreter.get_input_details()),
        outputs=_resolve_tensors(key, "output", signature_def.outputs,
                                 interpreter.get_output_details()),
        has_runner=False,
        embedded=signature_def,
    )


def _resolve_tensors(key: str, role: str, tensor_infos, details_list) -> dict[str, TensorLayout]:
    """The TF Lite tensor each TensorInfo of `tensor_infos` names, by alias; renames the
    TensorInfos to those tensors (see the module docstring for how names match)."""
    from tensorflow.core.framework import types_pb2

    tensors = {details["name"]: _tensor_layout(details) for details in details_list}
    resolved = {}
    for alias, tensor_info in tensor_infos.items():
        where = f"signature {key!r} {role} {alias!r}"
        tensor = tensors.get(tensor_info.name) or tensors.get(tensor_info.name.split(":", 1)[0])
        if tensor is None:
            raise ValueError(f"{where} names the tensor {tensor_info.name!r}, which is not an "
                             f"{role} of the TF Lite model's main graph "
                             f"({', '.join(sorted(tensors))})")
        dtype = _tf_dtype(tensor, where).as_datatype_enum
        if tensor_info.dtype != dtype:
            raise ValueError(f"{where} declares {types_pb2.DataType.Name(tensor_info.dtype)}, but "
                             f"the TF Lite tensor {tensor.name!r} holds "
                             f"{types_pb2.DataType.Name(dtype)}")
        tensor_info.name = tensor.name
        resolved[alias] = tensor
    return resolved


def _by_legacy_alias(details_list) -> dict[str, TensorLayout]:
    layouts = {}
    for details in details_list:
        name = details["name"]
        alias = name[:-2] if name.endswith(":0") else name
        layouts[alias] = _tensor_layout(details)
    return layouts


def _tensor_layout(details) -> TensorLayout:
    return TensorLayout(name=details["name"], index=int(details["index"]),
                        dtype=np.dtype(details["dtype"]),
                        shape=tuple(int(dim) for dim in details["shape_signature"]))


def _fill_tensor_info(tensor_info, tensor: TensorLayout, where: str) -> None:
    tensor_info.name = tensor.name
    tensor_info.dtype = _tf_dtype(tensor, where).as_datatype_enum
    for size in tensor.shape:
        tensor_info.tensor_shape.dim.add(size=size)


def _tf_dtype(tensor: TensorLayout, where: str):
    """The TensorFlow dtype of a TF Lite tensor's values (tf.string for TF Lite's strings)."""
    import tensorflow as tf

    try:
        return tf.string if tensor.is_string else tf.dtypes.as_dtype(tensor.dtype)
    except TypeError:
        raise UnsupportedTensorType(
            f"{where} has TF Lite type {tensor.dtype}, which no TensorFlow dtype matches") from None
