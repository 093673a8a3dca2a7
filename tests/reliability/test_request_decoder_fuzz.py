"""Fuzzing the request decoders with hypothesis: whatever a client sends, only the typed errors
of serving/errors.py come out, and never INTERNAL (a bug's status).

The requests go through the same code a real call does, in process: the TF Serving Predict
servicer (tensor codec, signature checks, the model run) and the Open Inference Protocol's
message decoding plus data plane, over a ModelManager holding real SavedModels. Examples are
bounded (a few hundred per decoder) and the database is off, so runs are reproducible in time.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2

from serving import errors
from serving.core import ModelManager
from serving.version_loader import VersionLoader
from serving.apis.tfs.model_config import model_configs, parse_model_config_text
from serving.transports.grpc import grpc_predict_v2_pb2 as oip_pb2
from serving.apis.oip import inference
from serving.transports.grpc import oip_messages as messages
from serving.apis import endpoints
from serving.apis.guard import GRPC, Call
from serving.apis.tfs import predict
from serving.apis.tfs.settings import TfsSettings

FUZZ = settings(max_examples=250, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def manager(shared_config_file):
    manager = ModelManager(model_configs(parse_model_config_text(shared_config_file.read_text())),
                           load=VersionLoader().load, file_system_poll_wait_seconds=0)
    manager.start()
    yield manager
    manager.stop()


def assert_typed_error_at_most(call) -> None:
    """Runs `call`; it may succeed or raise a ServingError other than INTERNAL, nothing else."""
    try:
        call()
    except errors.ServingError as error:
        assert error.code.name != "INTERNAL", error.message


# === TF Serving PredictRequest ===

MODEL_NAMES = st.sampled_from(["half_plus_two", "multi_io", "tf1", "", "nope", "../half_plus_two"])
ALIASES = st.sampled_from(["x", "features", "ids", "names", "inputs", "", "z"])
DIMENSIONS = st.one_of(st.integers(-2, 4), st.sampled_from([2**31, 2**40, 2**62, 2**63 - 1]))
DTYPES = st.one_of(st.sampled_from(list(types_pb2.DataType.values())), st.integers(-1, 200))
TYPED_FIELDS = {
    "float_val": st.lists(st.floats(width=32), max_size=6),
    "double_val": st.lists(st.floats(), max_size=6),
    "int_val": st.lists(st.integers(-(2**31), 2**31 - 1), max_size=6),
    "int64_val": st.lists(st.integers(-(2**63), 2**63 - 1), max_size=6),
    "bool_val": st.lists(st.booleans(), max_size=6),
    "half_val": st.lists(st.integers(-(2**31), 2**31 - 1), max_size=6),
    "string_val": st.lists(st.binary(max_size=8), max_size=6),
    "uint64_val": st.lists(st.integers(0, 2**64 - 1), max_size=6),
    "scomplex_val": st.lists(st.floats(width=32), max_size=6),
}


@st.composite
def tensor_protos(draw) -> tensor_pb2.TensorProto:
    tensor = tensor_pb2.TensorProto(dtype=draw(DTYPES))
    if draw(st.booleans()):
        tensor.tensor_shape.dim.extend(tensor_shape_pb2.TensorShapeProto.Dim(size=size)
                                       for size in draw(st.lists(DIMENSIONS, max_size=4)))
    tensor.tensor_shape.unknown_rank = draw(st.booleans()) and draw(st.booleans())
    if draw(st.booleans()):
        tensor.tensor_content = draw(st.binary(max_size=64))
    for field in draw(st.lists(st.sampled_from(sorted(TYPED_FIELDS)), max_size=2, unique=True)):
        getattr(tensor, field).extend(draw(TYPED_FIELDS[field]))
    return tensor


@st.composite
def predict_requests(draw) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest(output_filter=draw(st.lists(ALIASES | st.just("y"), max_size=2)))
    if draw(st.integers(0, 9)):  # mostly with a model spec
        request.model_spec.name = draw(MODEL_NAMES)
        request.model_spec.signature_name = draw(st.sampled_from(
            ["", "serving_default", "sum_only", "classify", "regress", "nope"]))
        choice = draw(st.sampled_from(["latest", "version", "label"]))
        if choice == "version":
            request.model_spec.version.value = draw(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 3))
        elif choice == "label":
            request.model_spec.version_label = draw(st.sampled_from(["stable", "canary", "", "../1"]))
    for alias in draw(st.lists(ALIASES, max_size=3, unique=True)):
        request.inputs[alias].CopyFrom(draw(tensor_protos()))
    return request


@FUZZ
@given(request=predict_requests())
def test_fuzzed_predict_requests_end_in_a_typed_error_or_an_answer(manager, request):
    assert_typed_error_at_most(lambda: asyncio.run(predict.predict_async(
        manager, request, Call(endpoints.PREDICT, GRPC), TfsSettings())))


# === Open Inference Protocol ModelInferRequest ===

DATATYPE_NAMES = st.sampled_from(["FP32", "FP64", "FP16", "BF16", "INT8", "INT32", "INT64", "UINT8",
                                  "UINT64", "BOOL", "BYTES", "fp32", "FLOAT", ""])
OIP_SHAPES = st.lists(st.one_of(st.integers(-2, 4), st.sampled_from([2**31, 2**62, 2**63 - 1])), max_size=4)
CONTENTS = {
    "fp32_contents": st.lists(st.floats(width=32), max_size=6),
    "fp64_contents": st.lists(st.floats(), max_size=6),
    "int_contents": st.lists(st.integers(-(2**31), 2**31 - 1), max_size=6),
    "int64_contents": st.lists(st.integers(-(2**63), 2**63 - 1), max_size=6),
    "uint_contents": st.lists(st.integers(0, 2**32 - 1), max_size=6),
    "uint64_contents": st.lists(st.integers(0, 2**64 - 1), max_size=6),
    "bool_contents": st.lists(st.booleans(), max_size=6),
    "bytes_contents": st.lists(st.binary(max_size=8), max_size=6),
}
PARAMETERS = st.one_of(
    st.builds(oip_pb2.InferParameter,
              string_param=st.sampled_from(["serving_default", "sum_only", "nope", ""])),
    st.builds(oip_pb2.InferParameter, int64_param=st.integers(-5, 5)),
    st.builds(oip_pb2.InferParameter, bool_param=st.booleans()),
    st.just(oip_pb2.InferParameter()),
)


@st.composite
def infer_requests(draw) -> oip_pb2.ModelInferRequest:
    request = oip_pb2.ModelInferRequest(
        model_name=draw(MODEL_NAMES),
        model_version=draw(st.sampled_from(["", "1", "2", "01", "-1", "99999999999999999999999", "stable",
                                            "../2", "\x00", "\u0661", " 2 "])),
        id=draw(st.text(max_size=4)),
    )
    if draw(st.booleans()):
        request.parameters["signature_name"].CopyFrom(draw(PARAMETERS))
    raw = draw(st.booleans())
    for name in draw(st.lists(ALIASES, max_size=3)):
        tensor = request.inputs.add(name=name, datatype=draw(DATATYPE_NAMES), shape=draw(OIP_SHAPES))
        if raw:
            request.raw_input_contents.append(draw(st.binary(max_size=48)))
        elif draw(st.booleans()):
            field = draw(st.sampled_from(sorted(CONTENTS)))
            getattr(tensor.contents, field).extend(draw(CONTENTS[field]))
    if raw and draw(st.booleans()):
        request.raw_input_contents.append(b"\0" * 4)  # one entry too many
    for name in draw(st.lists(st.sampled_from(["y", "total", "nope"]), max_size=2)):
        request.outputs.add(name=name)
    return request


@FUZZ
@given(request=infer_requests())
def test_fuzzed_model_infer_requests_end_in_a_typed_error_or_an_answer(manager, request):
    def call():
        response = inference.infer(manager, messages.infer_request_from_proto(request),
                                   Call(endpoints.OIP_INFER, GRPC))
        messages.infer_response_to_proto(response, raw=messages.uses_raw_contents(request))

    assert_typed_error_at_most(call)


# === Bytes off the wire ===


@FUZZ
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_parsed_as_predict_requests_end_in_a_typed_error_or_an_answer(manager, data):
    from google.protobuf import message

    try:
        request = predict_pb2.PredictRequest.FromString(data)
    except message.DecodeError:
        return  # the server answers these INVALID_ARGUMENT before any decoder runs
    assert_typed_error_at_most(lambda: asyncio.run(predict.predict_async(
        manager, request, Call(endpoints.PREDICT, GRPC), TfsSettings())))


# === REST JSON (TF Serving /v1 and the Open Inference Protocol's /v2) ===

JSON_KEYS = st.sampled_from(["instances", "inputs", "signature_name", "examples", "context", "b64",
                             "x", "features", "ids", "names", "name", "datatype", "shape", "data",
                             "parameters", "outputs", "binary_data", "binary_data_size", "id"])
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
                         st.sampled_from(["FP32", "INT64", "BYTES", "serving_default", "classify"]))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(JSON_KEYS, children, max_size=4)), max_leaves=16)
REST_POSTS = st.sampled_from([
    "/v1/models/half_plus_two:predict", "/v1/models/multi_io:predict", "/v1/models/tf1:classify",
    "/v1/models/tf1:regress", "/v1/models/half_plus_two/versions/1:predict",
    "/v1/models/half_plus_two/labels/stable:predict", "/v2/models/half_plus_two/infer",
    "/v2/models/multi_io/infer", "/v2/models/half_plus_two/versions/1/infer"])


@pytest.fixture(scope="module")
def rest_dispatcher(manager):
    from serving.apis.guard import Guard
    from serving.options import ServerOptions
    from serving.transports.rest.rest_server import RestServer

    options = ServerOptions(model_base_path="/unused", rest_api_port=1,
                            rest_api_timeout_in_ms=30000)
    rest = RestServer(manager, Guard(), options, TfsSettings())
    yield rest.dispatcher
    rest.dispatcher.close()


def rest_status(dispatcher, method: str, path: str, body: bytes, headers=None) -> int:
    from serving.transports.rest.messages import RestRequest

    request = RestRequest(method=method, path=path, headers=headers or {}, body=body)
    return asyncio.run(dispatcher.dispatch(request)).status


OIP_JSON_INPUTS = st.lists(st.fixed_dictionaries(
    {"name": st.sampled_from(["x", "features", "ids", "names", "z"]), "datatype": DATATYPE_NAMES,
     "shape": st.lists(st.integers(-1, 3) | st.sampled_from([2**62]), max_size=3), "data": JSON_VALUES},
    optional={"parameters": st.dictionaries(JSON_KEYS, JSON_SCALARS, max_size=2)}), max_size=3)
REST_DOCUMENTS = st.one_of(
    st.dictionaries(JSON_KEYS, JSON_VALUES, max_size=4),
    st.fixed_dictionaries({"instances": JSON_VALUES}, optional={"signature_name": JSON_SCALARS}),
    st.fixed_dictionaries({"inputs": JSON_VALUES}, optional={"signature_name": JSON_SCALARS}),
    st.fixed_dictionaries({"examples": st.lists(st.dictionaries(st.sampled_from(["x", "y"]), JSON_VALUES),
                                                max_size=3)},
                          optional={"context": st.dictionaries(st.sampled_from(["x"]), JSON_VALUES),
                                    "signature_name": st.sampled_from(["classify", "regress", "nope"])}),
    st.fixed_dictionaries({"inputs": OIP_JSON_INPUTS},
                          optional={"outputs": st.lists(st.dictionaries(JSON_KEYS, JSON_SCALARS), max_size=2),
                                    "parameters": st.dictionaries(JSON_KEYS, JSON_SCALARS, max_size=2)}),
)


@FUZZ
@given(path=REST_POSTS, document=REST_DOCUMENTS)
def test_fuzzed_rest_json_documents_never_get_a_500(rest_dispatcher, path, document):
    import json

    assert rest_status(rest_dispatcher, "POST", path, json.dumps(document).encode()) != 500


@FUZZ
@given(path=REST_POSTS, body=st.binary(max_size=64),
       header_length=st.one_of(st.none(), st.integers(-3, 80).map(str), st.text(max_size=3)))
def test_fuzzed_rest_bodies_and_binary_header_lengths_never_get_a_500(rest_dispatcher, path, body,
                                                                       header_length):
    headers = {} if header_length is None else {"Inference-Header-Content-Length": header_length}
    assert rest_status(rest_dispatcher, "POST", path, body, headers) != 500


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
       path=st.one_of(st.text(max_size=30).map(lambda text: "/" + text), st.builds(
           lambda prefix, name, suffix: prefix + name + suffix,
           st.sampled_from(["/v1/models/", "/v2/models/"]),
           st.sampled_from(["half_plus_two", "..%2F..", "%00", "%2Ftmp", "half_plus_two%2F1", "%ZZ", ""]),
           st.sampled_from(["", "/metadata", ":predict", "/versions/1", "/versions/-1", "/labels/..",
                            "/versions/99999999999999999999999", "/ready", "/infer"]))))
def test_fuzzed_rest_paths_never_get_a_500(rest_dispatcher, method, path):
    assert rest_status(rest_dispatcher, method, path, b"{}") != 500
