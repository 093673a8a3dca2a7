"""TF Serving's REST Predict JSON <-> numpy arrays (util/json_tensor.cc, api_rest.md).

Requests come in the row format (`instances`: one entry per example, a list of objects when the
signature has several inputs) or the columnar format (`inputs`: one value, or an object keyed by
input name). Values are checked against the signature's dtype: numbers for float and int tensors
(an int tensor takes whole numbers only), true/false for bool, strings or `{"b64": "..."}` for
string tensors. Responses mirror the request: `predictions` (a list per example; objects when
there are several outputs) for row requests, `outputs` for columnar ones. String outputs whose
name ends in `_bytes` are written as `{"b64": "..."}`; so is any other string output that is not
valid UTF-8, since JSON cannot hold it (TF Serving would write invalid JSON).

Arrays are built with numpy from the parsed JSON in one call, which also rejects ragged lists; a
few mixes numpy coerces are accepted where TF Serving would refuse them (true among numbers reads
as 1, numbers among strings as their text).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Mapping

import numpy as np

from serving import errors
from serving.transports.rest.dense_json import DenseArray
from serving.transports.rest.json_io import debug_string, float32_values, json_type_name
from serving.apis.tfs.tensor_codec import data_type_name, numpy_dtype

ROW = "row"
COLUMNAR = "columnar"
SIGNATURE_KEY = "signature_name"
INSTANCES_KEY = "instances"
INPUTS_KEY = "inputs"
PREDICTIONS_KEY = "predictions"
OUTPUTS_KEY = "outputs"
BASE64_KEY = "b64"
BYTES_SUFFIX = "_bytes"


@dataclasses.dataclass(frozen=True)
class PredictInputs:
    """A decoded Predict body: which format it used and one array per signature input."""

    format: str  # ROW or COLUMNAR
    arrays: dict[str, np.ndarray]


def signature_name(document: dict) -> str:
    """The optional `signature_name` ("" when absent); it must be a string."""
    value = document.get(SIGNATURE_KEY, "")
    if not isinstance(value, str):
        raise errors.InvalidArgument(
            f"JSON Value: {debug_string(document)} not formatted correctly. "
            "'signature_name' key must be a string value.")
    return value


def decode_predict_inputs(document: dict, input_infos: Mapping[str, object]) -> PredictInputs:
    """The input arrays of a Predict body, for a signature whose inputs are `input_infos`
    (alias -> TensorInfo). Every input of the signature must be given.

    Raises errors.InvalidArgument with TF Serving's messages for format mistakes, and one naming
    the input, the expected dtype and the offending value for type mistakes.
    """
    if not input_infos:
        raise errors.InvalidArgument("Failed to get input map for signature: the signature has no inputs")
    has_instances, has_inputs = INSTANCES_KEY in document, INPUTS_KEY in document
    if has_instances and has_inputs:
        raise errors.InvalidArgument(
            f"JSON Value: {debug_string(document)} Not formatted correctly expecting only one of "
            "'inputs' or 'instances' keys to exist")
    if has_instances:
        return PredictInputs(ROW, _decode_instances(document[INSTANCES_KEY], input_infos))
    if has_inputs:
        return PredictInputs(COLUMNAR, _decode_columns(document[INPUTS_KEY], input_infos))
    raise errors.InvalidArgument("Missing 'inputs' or 'instances' key")


def encode_predict_outputs(outputs: Mapping[str, np.ndarray], request_format: str) -> dict:
    """The response body for `outputs`: {"predictions": ...} for ROW, {"outputs": ...} for
    COLUMNAR; one output is written without its name, several as an object keyed by name.
    """
    if not outputs:
        raise errors.InvalidArgument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    values = {name: _json_values(name, outputs[name]) for name in names}
    if request_format == COLUMNAR:
        if len(names) == 1:
            return {OUTPUTS_KEY: values[names[0]]}
        return {OUTPUTS_KEY: values}
    batch_size = None
    for name in names:
        shape = np.shape(outputs[name])
        if not shape:
            raise errors.InvalidArgument(f"Tensor name: {name} has no shape information ")
        if batch_size is not None and shape[0] != batch_size:
            raise errors.InvalidArgument(
                f"Tensor name: {name} has inconsistent batch size: {shape[0]} expecting: "
                f"{batch_size}")
        batch_size = shape[0]
    if len(names) == 1:
        return {PREDICTIONS_KEY: values[names[0]]}
    return {PREDICTIONS_KEY: [{name: values[name][row] for name in names}
                              for row in range(batch_size)]}


def is_base64_object(value) -> bool:
    """`{"b64": "<string>"}` with no other key: how JSON carries binary values."""
    return (isinstance(value, dict) and len(value) == 1
            and isinstance(value.get(BASE64_KEY), str))


def decode_base64_object(value) -> bytes:
    if not is_base64_object(value):
        raise errors.InvalidArgument(
            f"JSON Value: {debug_string(value)} not formatted correctly for base64 data")
    try:
        return base64.b64decode(value[BASE64_KEY], validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidArgument("Unable to base64 decode") from None


def json_to_array(value, tensor_info, name: str) -> np.ndarray:
    """One tensor from its nested-list JSON value (or DenseArray), in the dtype of `tensor_info`."""
    dtype = numpy_dtype(tensor_info.dtype)
    type_name = data_type_name(tensor_info.dtype)
    if isinstance(value, DenseArray):
        array = _dense_as(value, dtype)
        if array is not None:
            return array
        value = value.as_python()  # the general path's checks name the offending value
    try:
        parsed = np.array(value)
    except (ValueError, OverflowError) as error:
        raise errors.InvalidArgument(
            f"Input \"{name}\": JSON Value: {debug_string(value)} is not a dense tensor: "
            f"{_first_line(error)}") from None
    if parsed.size == 0:
        return np.zeros(parsed.shape, dtype=dtype) if dtype != object else np.empty(parsed.shape, object)
    if dtype == object:
        return _strings(parsed, name)
    if dtype.kind == "b":
        if parsed.dtype.kind != "b":
            raise _type_error(name, _offending(value, _is_bool), type_name)
        return parsed
    if dtype.kind in "iu":
        return _integers(value, parsed, dtype, name, type_name)
    if dtype.kind == "f" or dtype.name == "bfloat16":
        if parsed.dtype.kind not in "fiu":
            raise _type_error(name, _offending(value, _is_number), type_name)
        return _floats(parsed, dtype)
    raise errors.Unimplemented(
        f"Input \"{name}\": conversion of JSON values to type {type_name} is not supported")


def _dense_as(value: DenseArray, dtype: np.dtype) -> np.ndarray | None:
    """A dense numeric array in `dtype` where its numbers are valid as they are: any numbers for
    float tensors, integers in range for integer ones; None otherwise (the general path then names
    the offending value)."""
    values = value.values
    if dtype.kind == "f" or dtype.name == "bfloat16":
        return _floats(values, dtype)
    if dtype.kind in "iu" and values.dtype.kind == "i":
        limits = np.iinfo(dtype)
        if limits.min <= values.min() and values.max() <= limits.max:
            return values.astype(dtype)
    return None


def _floats(parsed: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Numbers as a float tensor, rounded to the nearest value the type holds, as TF Serving
    converts them (json_tensor.cc: rapidjson's GetFloat): beyond its largest finite value, a
    number becomes infinity (json_tensor_test.cc, FloatTensorThatExceedsMaxReturnsInf), and an
    integer it cannot hold exactly is rounded (FloatTensorWithPrecisionLoss)."""
    with np.errstate(over="ignore"):
        return parsed.astype(dtype)


def _decode_instances(instances, input_infos: Mapping[str, object]) -> dict[str, np.ndarray]:
    names = sorted(input_infos)
    if isinstance(instances, DenseArray):  # a plain list of numbers, as one input's rows
        if len(names) > 1:
            raise _plain_instances_error(names)
        return {names[0]: json_to_array(instances, input_infos[names[0]], names[0])}
    if not isinstance(instances, list):
        raise errors.InvalidArgument("Expecting 'instances' to be an list/array")
    if not instances:
        raise errors.InvalidArgument("No values in 'instances' array")
    objects = _is_named_object(instances[0])
    if not objects:
        if len(names) > 1:
            raise _plain_instances_error(names)
        for index, item in enumerate(instances):
            if _is_named_object(item):
                raise errors.InvalidArgument(
                    f"Expecting value/list but got object at item {index} of input list")
        return {names[0]: json_to_array(instances, input_infos[names[0]], names[0])}
    for index, item in enumerate(instances):
        if not _is_named_object(item):
            raise errors.InvalidArgument(f"Expecting object but got list at item {index} of input list")
        if sorted(item) != names:
            raise errors.InvalidArgument(
                f"Failed to process element: {index} of 'instances' list. JSON object: "
                f"{debug_string(item)} keys must be equal to: {','.join(names)}")
    return {name: json_to_array([item[name] for item in instances], input_infos[name], name)
            for name in names}


def _plain_instances_error(names: list[str]) -> errors.InvalidArgument:
    return errors.InvalidArgument(
        "instances is a plain list, but expecting list of objects as multiple input tensors "
        f"required as per tensorinfo_map (inputs: {', '.join(names)})")


def _decode_columns(inputs, input_infos: Mapping[str, object]) -> dict[str, np.ndarray]:
    names = sorted(input_infos)
    if not _is_named_object(inputs):
        if len(names) > 1:
            raise errors.InvalidArgument(
                "inputs is a plain value/list, but expecting an object as multiple input tensors "
                f"required as per tensorinfo_map (inputs: {', '.join(names)})")
        return {names[0]: json_to_array(inputs, input_infos[names[0]], names[0])}
    arrays = {}
    for name in names:
        if name not in inputs:
            raise errors.InvalidArgument(f"Missing named input: {name} in 'inputs' object.")
        arrays[name] = json_to_array(inputs[name], input_infos[name], name)
    return arrays


def _is_named_object(value) -> bool:
    return isinstance(value, dict) and not is_base64_object(value)


def _strings(parsed: np.ndarray, name: str) -> np.ndarray:
    flat = parsed.ravel().tolist()
    encoded = np.empty(len(flat), dtype=object)
    for index, item in enumerate(flat):
        if isinstance(item, str):
            encoded[index] = item.encode("utf-8")
        elif isinstance(item, dict):
            encoded[index] = decode_base64_object(item)
        else:
            raise _type_error(name, item, "DT_STRING")
    return encoded.reshape(parsed.shape)


def _integers(value, parsed: np.ndarray, dtype: np.dtype, name: str, type_name: str) -> np.ndarray:
    if parsed.dtype.kind in "iu":
        wide = parsed
    else:
        # numpy reads [1, 2**63] as float64 and bigger ints as objects: check the JSON numbers
        # themselves, so only whole numbers (not true/false, not 1.5) are taken.
        flat = np.array(value, dtype=object).ravel().tolist()
        for item in flat:
            if type(item) is not int:
                raise _type_error(name, item, type_name)
        try:
            wide = np.array(flat, dtype=np.uint64 if dtype.kind == "u" else np.int64)
        except OverflowError:
            raise _range_error(name, dtype, type_name) from None
        wide = wide.reshape(parsed.shape)
    limits = np.iinfo(dtype)
    if wide.min() < limits.min or wide.max() > limits.max:
        raise _range_error(name, dtype, type_name)
    return wide.astype(dtype)


def _offending(value, accepts):
    """The first element of a (dense) JSON value that `accepts` refuses; the value if none."""
    for item in np.array(value, dtype=object).ravel().tolist():
        if not accepts(item):
            return item
    return value


def _is_bool(item) -> bool:
    return isinstance(item, bool)


def _is_number(item) -> bool:
    return isinstance(item, (int, float)) and not isinstance(item, bool)


def _json_values(name: str, array: np.ndarray):
    """An output as JSON-ready values: a numpy array for numbers (json_io.dump_json writes it),
    nested lists of strings or base64 objects for strings."""
    array = np.asarray(array)
    if array.dtype == object or array.dtype.kind in "SU":
        flat = array.ravel().tolist()
        as_bytes = name.endswith(BYTES_SUFFIX)
        texts = np.empty(len(flat), dtype=object)
        texts[:] = [_string_value(item, as_bytes) for item in flat]
        return texts.reshape(array.shape).tolist()
    if array.dtype == np.float32 or array.dtype == np.float16 or array.dtype.name == "bfloat16":
        return float32_values(array.astype(np.float32))
    if array.dtype.kind in "biuf":
        return array
    # TF Serving's message and status (json_tensor.cc), naming the output too.
    raise errors.InvalidArgument(
        f"Failed to write JSON value for tensor type: {array.dtype} (output \"{name}\": TF "
        "Serving's REST API has no JSON form for it; use gRPC)")


def _string_value(item, as_bytes: bool):
    data = item if isinstance(item, bytes) else str(item).encode("utf-8")
    if not as_bytes:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # JSON strings cannot hold arbitrary bytes: fall back to base64
    return {BASE64_KEY: base64.b64encode(data).decode("ascii")}


def _type_error(name: str, value, type_name: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(
        f"Input \"{name}\": JSON Value: {debug_string(value)} Type: {json_type_name(value)} is not "
        f"of expected type: {_short_type(type_name)}")


def _range_error(name: str, dtype: np.dtype, type_name: str) -> errors.InvalidArgument:
    limits = np.iinfo(dtype)
    return errors.InvalidArgument(
        f"Input \"{name}\": a value is outside the {_short_type(type_name)} range "
        f"[{limits.min}, {limits.max}]")



def _short_type(type_name: str) -> str:
    """DT_FLOAT -> float: TF Serving's messages use DataTypeString's spelling."""
    return type_name.removeprefix("DT_").lower()


def _first_line(error: Exception) -> str:
    return str(error).split("\n", 1)[0]
