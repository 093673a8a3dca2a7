"""One model's request and response schemas, made from its SignatureDefs (names, dtypes, shapes).

The per-model OpenAPI document (GET /v1/models/NAME/openapi.json) replaces the generic bodies of
openapi_schemas.py with these, so a client generator, Swagger UI or schemathesis knows what each
input must hold: a float32 [-1, 3] input is, in the row format, a list of examples each a list of
exactly 3 numbers. Element schemas follow tfs_tensors.py: numbers for float tensors, integers in
the dtype's range for integer ones, true/false for bool, strings or {"b64": ...} for strings
(outputs named *_bytes always as {"b64": ...}). Unknown dimensions (-1) take any length; a tensor
of unknown rank takes any nesting.

The Open Inference Protocol's infer bodies are narrowed the same way: which names, datatypes and
shapes its inputs and outputs have.
"""

from __future__ import annotations

from typing import Mapping

import ml_dtypes
from tensorflow.core.framework import types_pb2

from serving import contract, errors
from serving.apis.oip import datatypes
from serving.apis.tfs.tensor_codec import numpy_dtype
from serving.transports.rest.openapi_schemas import (ANSWER_NUMBER, ANY, B64_VALUE,
                                                     component_schemas)
from serving.transports.rest.tfs_tensors import BYTES_SUFFIX

_FLOATS = {types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE, types_pb2.DT_HALF, types_pb2.DT_BFLOAT16}
_INTEGER_BITS = {types_pb2.DT_INT8: (8, True), types_pb2.DT_INT16: (16, True),
                 types_pb2.DT_INT32: (32, True), types_pb2.DT_INT64: (64, True),
                 types_pb2.DT_UINT8: (8, False), types_pb2.DT_UINT16: (16, False),
                 types_pb2.DT_UINT32: (32, False), types_pb2.DT_UINT64: (64, False)}


def model_components(signature_defs: Mapping[str, object]) -> tuple[dict, dict]:
    """(component schemas, request examples by component) for a model with these SignatureDefs.

    Starts from the generic components and replaces the predict, examples and infer bodies.
    """
    signatures = {name: signature for name, signature in sorted(signature_defs.items())
                  if not name.startswith("__")}
    components = component_schemas()
    examples = {}
    if signatures:
        components["PredictRequest"] = {"anyOf": [
            schema for name, signature in signatures.items()
            for schema in _predict_requests(name, signature)]}
        components["PredictResponse"] = {"anyOf": [
            schema for signature in signatures.values()
            for schema in _predict_responses(signature)]}
        default = signatures.get(contract.DEFAULT_SIGNATURE)
        if default is not None:
            examples["PredictRequest"] = {"instances": [
                _instance_example(default.inputs)]}
        components["OipInferRequest"] = _infer_request(signatures)
        components["OipInferResponse"] = _infer_response(signatures)
    example_signatures = [name for name, signature in signatures.items()
                          if list(signature.inputs) == [contract.EXAMPLES_INPUT]]
    if example_signatures:
        components["ExamplesRequest"]["properties"]["signature_name"] = {"enum": example_signatures}
    return components, examples


def element_schema(dtype: int, as_bytes: bool = False, *, answer: bool = False) -> dict:
    """The JSON schema of one value of a TensorFlow dtype, in a request (finite numbers within
    the dtype's range) or in an `answer` (NaN and infinities too)."""
    if dtype in _FLOATS:
        if answer:
            return ANSWER_NUMBER
        largest = float(ml_dtypes.finfo(numpy_dtype(dtype)).max)
        return {"type": "number", "minimum": -largest, "maximum": largest}
    if dtype in _INTEGER_BITS:
        bits, signed = _INTEGER_BITS[dtype]
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        return {"type": "integer", "minimum": low, "maximum": high}
    if dtype == types_pb2.DT_BOOL:
        return {"type": "boolean"}
    if dtype == types_pb2.DT_STRING:
        return B64_VALUE if as_bytes else {"anyOf": [{"type": "string"}, B64_VALUE]}
    return ANY


def tensor_schema(dims: list[int] | None, element: dict) -> dict:
    """Nested lists of `element` for a shape (None: unknown rank, any nesting)."""
    if dims is None:
        return {"anyOf": [element, {"type": "array"}]}
    schema = element
    for size in reversed(dims):
        schema = {"type": "array", "items": schema}
        if size >= 0:
            schema["minItems"] = schema["maxItems"] = size
    return schema


def _dims(tensor_info) -> list[int] | None:
    shape = tensor_info.tensor_shape
    return None if shape.unknown_rank else [dim.size for dim in shape.dim]


def _value(tensor_info, name: str = "", *, per_example: bool, answer: bool = False) -> dict:
    """A tensor's JSON value; `per_example` drops its batch dimension (row format)."""
    dims = _dims(tensor_info)
    if per_example and dims:
        dims = dims[1:]
    element = element_schema(tensor_info.dtype, as_bytes=name.endswith(BYTES_SUFFIX),
                             answer=answer)
    schema = tensor_schema(dims, element)
    schema = dict(schema)
    schema["description"] = (f"{types_pb2.DataType.Name(tensor_info.dtype)} "
                             f"{_shape_text(_dims(tensor_info))}")
    return schema


def _named(tensors, *, per_example: bool, outputs: bool = False) -> dict:
    return {"type": "object", "required": sorted(tensors), "additionalProperties": False,
            "properties": {name: _value(tensors[name], name if outputs else "",
                                        per_example=per_example, answer=outputs)
                           for name in sorted(tensors)}}


def _one_or_named(tensors, *, per_example: bool, outputs: bool = False) -> dict:
    """A single tensor's value (or, for inputs, that value under its name); an object of
    name -> value for several."""
    named = _named(tensors, per_example=per_example, outputs=outputs)
    if len(tensors) != 1:
        return named
    [name] = tensors
    value = _value(tensors[name], name if outputs else "", per_example=per_example,
                   answer=outputs)
    return value if outputs else {"anyOf": [value, named]}


def _predict_requests(name: str, signature) -> list[dict]:
    signature_name = {"const": name}
    required = [] if name == contract.DEFAULT_SIGNATURE else ["signature_name"]
    row = {"type": "object", "additionalProperties": False,
           "required": ["instances", *required],
           "title": f"{name} (row format)",
           "properties": {"signature_name": signature_name,
                          "instances": {"type": "array", "minItems": 1,
                                        "items": _one_or_named(signature.inputs,
                                                               per_example=True)}}}
    columnar = {"type": "object", "additionalProperties": False,
                "required": ["inputs", *required],
                "title": f"{name} (columnar format)",
                "properties": {"signature_name": signature_name,
                               "inputs": _one_or_named(signature.inputs, per_example=False)}}
    return [row, columnar]


def _predict_responses(signature) -> list[dict]:
    row = {"type": "object", "required": ["predictions"], "additionalProperties": False,
           "properties": {"predictions": {"type": "array", "items": _one_or_named(
               signature.outputs, per_example=True, outputs=True)}}}
    columnar = {"type": "object", "required": ["outputs"], "additionalProperties": False,
                "properties": {"outputs": _one_or_named(signature.outputs, per_example=False,
                                                        outputs=True)}}
    return [row, columnar]


def _instance_example(inputs) -> object:
    """One example of zeros (empty strings) in the row format, for "try it out"."""
    def value(tensor_info):
        dims = (_dims(tensor_info) or [])[1:]
        element = "" if tensor_info.dtype == types_pb2.DT_STRING else (
            False if tensor_info.dtype == types_pb2.DT_BOOL else 0)
        for size in reversed(dims):
            element = [element] * (size if size >= 0 else 1)
        return element

    if len(inputs) == 1:
        return value(next(iter(inputs.values())))
    return {name: value(inputs[name]) for name in sorted(inputs)}


def _oip_tensor(name: str, tensor_info, with_data: bool) -> dict | None:
    try:
        datatype = datatypes.from_tf_dtype(tensor_info.dtype).name
    except errors.ServingError:
        return None  # a dtype the protocol has no datatype for
    dims = _dims(tensor_info)
    shape = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    if dims is not None:
        shape = {**shape, "minItems": len(dims), "maxItems": len(dims),
                 "description": f"Rank {len(dims)}: {_shape_text(dims)}, -1 any size"}
    schema = {"type": "object", "required": ["name", "datatype", "shape"],
              "properties": {"name": {"const": name}, "datatype": {"const": datatype},
                             "shape": shape,
                             "parameters": {"type": "object"}}}
    if with_data:
        schema["properties"]["data"] = {"type": "array"}
    return schema


def _infer_request(signatures) -> dict:
    schema = component_schemas()["OipInferRequest"]
    inputs = [tensor for signature in signatures.values()
              for name in sorted(signature.inputs)
              if (tensor := _oip_tensor(name, signature.inputs[name], with_data=True))]
    if inputs:
        schema["properties"]["inputs"] = {"type": "array", "minItems": 1,
                                          "items": {"anyOf": inputs}}
    schema["properties"]["parameters"] = {
        "type": "object", "properties": {"signature_name": {"enum": sorted(signatures)}}}
    return schema


def _infer_response(signatures) -> dict:
    schema = component_schemas()["OipInferResponse"]
    outputs = [tensor for signature in signatures.values()
               for name in sorted(signature.outputs)
               if (tensor := _oip_tensor(name, signature.outputs[name], with_data=True))]
    if outputs:
        schema["properties"]["outputs"] = {"type": "array", "items": {"anyOf": outputs}}
    return schema


def _shape_text(dims: list[int] | None) -> str:
    return "of any shape" if dims is None else "[" + ", ".join(map(str, dims)) + "]"
