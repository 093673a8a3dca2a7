"""GRPCInferenceService end to end: a real server, real SavedModels, tritonclient and our stub."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
from tests.support.oip_harness import RPC_TIMEOUT_SECONDS
from tests.support.oip_testdata import DATATYPE_TF_DTYPES, TYPED_DATATYPES, sample_array
from tritonclient.utils import InferenceServerException

import serving
from serving.apis.oip import datatypes
from serving.transports.grpc import grpc_predict_v2_pb2 as pb2


def triton_input(name: str, datatype: str, array: np.ndarray) -> triton_grpc.InferInput:
    tensor = triton_grpc.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


def typed_request(model: str, inputs: dict[str, tuple[str, np.ndarray]], **fields
                  ) -> pb2.ModelInferRequest:
    """A ModelInferRequest with every input's values in its typed contents field."""
    request = pb2.ModelInferRequest(model_name=model, **fields)
    for name, (datatype, array) in inputs.items():
        tensor = request.inputs.add(name=name, datatype=datatype, shape=array.shape)
        field = datatypes.datatype(datatype).contents_field
        getattr(tensor.contents, field).extend(datatypes.encode_values(array))
    return request


def raw_request(model: str, inputs: dict[str, tuple[str, np.ndarray]], **fields
                ) -> pb2.ModelInferRequest:
    """A ModelInferRequest with the values in raw_input_contents, as tritonclient sends them."""
    request = pb2.ModelInferRequest(model_name=model, **fields)
    for name, (datatype, array) in inputs.items():
        request.inputs.add(name=name, datatype=datatype, shape=array.shape)
        request.raw_input_contents.append(datatypes.encode_raw(array))
    return request


def half_request(values, **fields) -> pb2.ModelInferRequest:
    return typed_request("half", {"x": ("FP32", np.asarray(values, np.float32))}, **fields)


def signature(name: str) -> dict:
    return {"signature_name": pb2.InferParameter(string_param=name)}


def typed_output(response: pb2.ModelInferResponse, name: str) -> np.ndarray:
    for tensor in response.outputs:
        if tensor.name == name:
            datatype = datatypes.datatype(tensor.datatype)
            values = getattr(tensor.contents, datatype.contents_field)
            return datatypes.decode_values(name, datatype, tuple(tensor.shape), values, "test")
    raise KeyError(name)


def rpc_error(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=RPC_TIMEOUT_SECONDS)
    return raised.value


# === Health and metadata ===


def test_server_live_and_ready_over_tritonclient(triton):
    assert triton.is_server_live(client_timeout=RPC_TIMEOUT_SECONDS)
    assert triton.is_server_ready(client_timeout=RPC_TIMEOUT_SECONDS)


def test_server_live_and_ready_over_the_generated_stub(stub):
    assert stub.ServerLive(pb2.ServerLiveRequest(), timeout=RPC_TIMEOUT_SECONDS).live
    assert stub.ServerReady(pb2.ServerReadyRequest(), timeout=RPC_TIMEOUT_SECONDS).ready


@pytest.mark.parametrize("version", ["", "1", "2", "stable"])
def test_model_ready_for_a_loaded_model_version_or_label(triton, version):
    assert triton.is_model_ready("half", version, client_timeout=RPC_TIMEOUT_SECONDS)


def test_model_ready_for_an_unknown_model_is_not_found_and_lists_served_models(stub):
    error = rpc_error(stub.ModelReady, pb2.ModelReadyRequest(name="nope"))

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "'nope'" in error.details() and "'half'" in error.details()


def test_model_ready_for_an_unknown_version_is_not_found(stub):
    error = rpc_error(stub.ModelReady, pb2.ModelReadyRequest(name="half", version="7"))

    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_server_metadata_names_tfzoo_its_version_and_tritons_extensions_it_serves(triton):
    metadata = triton.get_server_metadata(client_timeout=RPC_TIMEOUT_SECONDS)

    assert (metadata.name, metadata.version) == ("tfzoo", serving.__version__)
    assert list(metadata.extensions) == ["model_configuration", "statistics"]


def test_model_metadata_describes_the_serving_default_signature(triton):
    metadata = triton.get_model_metadata("multi", as_json=True,
                                         client_timeout=RPC_TIMEOUT_SECONDS)

    assert metadata == {
        "name": "multi",
        "versions": ["1"],
        "platform": "tensorflow_savedmodel",
        "inputs": [
            {"name": "features", "datatype": "FP32", "shape": ["-1", "3"]},
            {"name": "ids", "datatype": "INT64", "shape": ["-1"]},
            {"name": "names", "datatype": "BYTES", "shape": ["-1"]},
        ],
        "outputs": [
            {"name": "doubled_ids", "datatype": "INT64", "shape": ["-1"]},
            {"name": "greeting", "datatype": "BYTES", "shape": ["-1"]},
            {"name": "total", "datatype": "FP32", "shape": ["-1"]},
        ],
    }


def test_model_metadata_lists_every_available_version(stub):
    metadata = stub.ModelMetadata(pb2.ModelMetadataRequest(name="half"),
                                  timeout=RPC_TIMEOUT_SECONDS)

    assert list(metadata.versions) == ["1", "2"]


@pytest.mark.parametrize("version,expected", [("1", ["1"]), ("stable", ["1"]), ("2", ["2"])])
def test_model_metadata_for_one_version_lists_only_that_version(stub, version, expected):
    metadata = stub.ModelMetadata(pb2.ModelMetadataRequest(name="half", version=version),
                                  timeout=RPC_TIMEOUT_SECONDS)

    assert list(metadata.versions) == expected


def test_model_metadata_for_an_unknown_model_is_not_found(triton):
    with pytest.raises(InferenceServerException) as raised:
        triton.get_model_metadata("nope", client_timeout=RPC_TIMEOUT_SECONDS)

    assert raised.value.status() == "StatusCode.NOT_FOUND"
    assert "Servable not found for request: Latest(nope)" in raised.value.message()


# === Inference: versions, ids, outputs ===


def test_infer_with_no_version_runs_the_latest_and_echoes_the_request_id(triton):
    x = np.array([1.0, 2.0, 3.0], np.float32)

    result = triton.infer("half", [triton_input("x", "FP32", x)], request_id="req-42",
                          client_timeout=RPC_TIMEOUT_SECONDS)

    response = result.get_response()
    assert (response.model_name, response.model_version, response.id) == ("half", "2", "req-42")
    np.testing.assert_allclose(result.as_numpy("y"), 3.0 * x + 1.0)


@pytest.mark.parametrize("version", ["1", "stable"])
def test_infer_runs_the_version_or_label_asked_for(triton, version):
    x = np.array([4.0], np.float32)

    result = triton.infer("half", [triton_input("x", "FP32", x)], model_version=version,
                          client_timeout=RPC_TIMEOUT_SECONDS)

    assert result.get_response().model_version == "1"
    np.testing.assert_allclose(result.as_numpy("y"), [4.0])


def test_typed_request_gets_a_typed_response(stub):
    response = stub.ModelInfer(half_request([2.0, 4.0], id="typed"), timeout=RPC_TIMEOUT_SECONDS)

    assert response.id == "typed" and len(response.raw_output_contents) == 0
    output = response.outputs[0]
    assert (output.name, output.datatype, list(output.shape)) == ("y", "FP32", [2])
    assert list(output.contents.fp32_contents) == [7.0, 13.0]


def test_raw_request_gets_a_raw_response(stub):
    request = raw_request("half", {"x": ("FP32", np.array([2.0], np.float32))})

    response = stub.ModelInfer(request, timeout=RPC_TIMEOUT_SECONDS)

    assert not response.outputs[0].HasField("contents")
    assert response.raw_output_contents == [np.array([7.0], np.float32).tobytes()]


def test_all_outputs_are_returned_by_name_when_none_is_requested(triton):
    result = triton.infer("multi", [
        triton_input("features", "FP32", np.ones((2, 3), np.float32)),
        triton_input("ids", "INT64", np.array([1, 2], np.int64)),
        triton_input("names", "BYTES", np.array([b"ann", "bö".encode()], dtype=object)),
    ], client_timeout=RPC_TIMEOUT_SECONDS)

    assert [output.name for output in result.get_response().outputs] == [
        "doubled_ids", "greeting", "total"]
    np.testing.assert_array_equal(result.as_numpy("total"), [4.0, 5.0])
    np.testing.assert_array_equal(result.as_numpy("doubled_ids"), [2, 4])
    assert result.as_numpy("greeting").tolist() == [b"hello ann", "hello bö".encode()]


def test_only_the_requested_outputs_come_back_in_the_requested_order(triton):
    outputs = [triton_grpc.InferRequestedOutput("total"),
               triton_grpc.InferRequestedOutput("greeting")]

    result = triton.infer("multi", [
        triton_input("features", "FP32", np.ones((1, 3), np.float32)),
        triton_input("ids", "INT64", np.array([5], np.int64)),
        triton_input("names", "BYTES", np.array([b"x"], dtype=object)),
    ], outputs=outputs, client_timeout=RPC_TIMEOUT_SECONDS)

    assert [output.name for output in result.get_response().outputs] == ["total", "greeting"]
    np.testing.assert_array_equal(result.as_numpy("total"), [8.0])


def test_typed_bytes_inputs_and_outputs_use_bytes_contents(stub):
    request = typed_request("multi", {
        "features": ("FP32", np.zeros((2, 3), np.float32)),
        "ids": ("INT64", np.array([0, 0], np.int64)),
        "names": ("BYTES", np.array([b"\x00\xff", b""], dtype=object)),
    }, outputs=[pb2.ModelInferRequest.InferRequestedOutputTensor(name="greeting")])

    response = stub.ModelInfer(request, timeout=RPC_TIMEOUT_SECONDS)

    assert list(response.outputs[0].contents.bytes_contents) == [b"hello \x00\xff", b"hello "]


def test_signature_name_parameter_selects_another_signature(stub):
    request = typed_request("multi", {"features": ("FP32", np.ones((1, 3), np.float32))},
                            parameters=signature("sum_only"))

    response = stub.ModelInfer(request, timeout=RPC_TIMEOUT_SECONDS)

    assert [output.name for output in response.outputs] == ["total"]
    np.testing.assert_array_equal(typed_output(response, "total"), [3.0])


# === Inference: every datatype ===


@pytest.mark.parametrize("datatype", list(DATATYPE_TF_DTYPES))
def test_every_datatype_round_trips_raw_through_tritonclient(triton, datatype):
    array = sample_array(datatype)
    # tritonclient takes and returns BF16 as float32 (it sends the top 16 bits).
    client_array = array.astype(np.float32) if datatype == "BF16" else array

    result = triton.infer("dtypes", [triton_input("x", datatype, client_array)],
                          parameters={"signature_name": f"identity_{datatype}"},
                          client_timeout=RPC_TIMEOUT_SECONDS)

    output = result.get_response().outputs[0]
    assert (output.datatype, list(output.shape)) == (datatype, [3, 2])
    np.testing.assert_array_equal(result.as_numpy("y"), client_array)


@pytest.mark.parametrize("datatype", TYPED_DATATYPES)
def test_every_typed_datatype_round_trips_through_its_contents_field(stub, datatype):
    array = sample_array(datatype)
    request = typed_request("dtypes", {"x": (datatype, array)},
                            parameters=signature(f"identity_{datatype}"))

    response = stub.ModelInfer(request, timeout=RPC_TIMEOUT_SECONDS)

    assert response.outputs[0].datatype == datatype and len(response.raw_output_contents) == 0
    decoded = typed_output(response, "y")
    assert decoded.dtype == datatypes.datatype(datatype).numpy_dtype
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("datatype", ["FP16", "BF16"])
def test_16_bit_floats_round_trip_raw_through_the_generated_stub(stub, datatype):
    array = sample_array(datatype)
    request = raw_request("dtypes", {"x": (datatype, array)},
                          parameters=signature(f"identity_{datatype}"))

    response = stub.ModelInfer(request, timeout=RPC_TIMEOUT_SECONDS)

    decoded = datatypes.decode_raw("y", datatypes.datatype(datatype), (3, 2),
                                   response.raw_output_contents[0])
    np.testing.assert_array_equal(decoded, array)


# === Inference: errors ===


def test_unknown_model_is_not_found(stub):
    request = typed_request("nope", {"x": ("FP32", np.ones(1, np.float32))})

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "Servable not found for request: Latest(nope)"


def test_unknown_version_is_not_found(triton):
    with pytest.raises(InferenceServerException) as raised:
        triton.infer("half", [triton_input("x", "FP32", np.ones(1, np.float32))],
                     model_version="7", client_timeout=RPC_TIMEOUT_SECONDS)

    assert raised.value.status() == "StatusCode.NOT_FOUND"
    assert "Specific(half, 7)" in raised.value.message()


def test_unknown_version_label_is_invalid_argument_naming_the_known_labels(stub):
    error = rpc_error(stub.ModelInfer, half_request([1.0], model_version="canary"))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "canary" in error.details() and "stable" in error.details()


def test_negative_version_is_invalid_argument(stub):
    error = rpc_error(stub.ModelInfer, half_request([1.0], model_version="-1"))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_wrong_input_name_is_invalid_argument_naming_sent_and_expected(triton):
    with pytest.raises(InferenceServerException) as raised:
        triton.infer("half", [triton_input("z", "FP32", np.ones(1, np.float32))],
                     client_timeout=RPC_TIMEOUT_SECONDS)

    assert raised.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "Sent extra: {z}" in raised.value.message()
    assert "Missing but required: {x}" in raised.value.message()


def test_wrong_datatype_is_invalid_argument_naming_expected_and_received(stub):
    request = typed_request("half", {"x": ("INT64", np.array([1], np.int64))})

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'input "x"' in error.details()
    assert "expects datatype FP32, received INT64" in error.details()


def test_typed_element_count_mismatch_names_input_shape_datatype_and_count(stub):
    request = pb2.ModelInferRequest(model_name="half")
    request.inputs.add(name="x", datatype="FP32", shape=[3]).contents.fp32_contents.extend([1, 2])

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == ('input "x" (datatype FP32, shape [3]) needs 3 values in '
                               "contents.fp32_contents, received 2")


def test_values_in_the_wrong_contents_field_are_pointed_out(stub):
    request = pb2.ModelInferRequest(model_name="half")
    request.inputs.add(name="x", datatype="FP32", shape=[2]).contents.int_contents.extend([1, 2])

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "values were sent in int_contents (2 values)" in error.details()


def test_raw_byte_count_mismatch_names_input_shape_datatype_and_bytes(stub):
    request = pb2.ModelInferRequest(model_name="half", raw_input_contents=[b"\x00" * 6])
    request.inputs.add(name="x", datatype="FP32", shape=[2])

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'input "x" (datatype FP32, shape [2]) needs 8 bytes' in error.details()
    assert "received 6 bytes" in error.details()


def test_raw_contents_need_one_entry_per_input(stub):
    request = raw_request("multi", {"features": ("FP32", np.ones((1, 3), np.float32)),
                                    "ids": ("INT64", np.ones(1, np.int64))})
    del request.raw_input_contents[1]

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "2 inputs, received 1 entries" in error.details()


def test_mixing_raw_and_typed_contents_is_invalid_argument(stub):
    request = raw_request("half", {"x": ("FP32", np.ones(1, np.float32))})
    request.inputs[0].contents.fp32_contents.append(1.0)

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not both" in error.details()


def test_unknown_datatype_is_invalid_argument_listing_valid_ones(stub):
    request = pb2.ModelInferRequest(model_name="half")
    request.inputs.add(name="x", datatype="FLOAT", shape=[1])

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown datatype 'FLOAT'" in error.details() and "FP32" in error.details()


def test_fp16_sent_in_typed_contents_is_invalid_argument(stub):
    request = pb2.ModelInferRequest(model_name="dtypes", parameters=signature("identity_FP16"))
    request.inputs.add(name="x", datatype="FP16", shape=[1, 2]).contents.fp32_contents.extend([1, 2])

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "raw_input_contents" in error.details()


def test_shape_the_signature_does_not_accept_is_invalid_argument(stub):
    request = typed_request("multi", {"features": ("FP32", np.ones(3, np.float32))},
                            parameters=signature("sum_only"))

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expected shape [-1,3]" in error.details() and "received shape [3]" in error.details()


def test_duplicate_input_is_invalid_argument(stub):
    request = half_request([1.0])
    request.inputs.append(request.inputs[0])

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'input "x" is given more than once' in error.details()


def test_unknown_requested_output_is_invalid_argument(triton):
    with pytest.raises(InferenceServerException) as raised:
        triton.infer("half", [triton_input("x", "FP32", np.ones(1, np.float32))],
                     outputs=[triton_grpc.InferRequestedOutput("nope")],
                     client_timeout=RPC_TIMEOUT_SECONDS)

    assert raised.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "output tensor alias not found in signature: nope" in raised.value.message()


def test_unknown_signature_name_is_failed_precondition(stub):
    error = rpc_error(stub.ModelInfer, half_request([1.0], parameters=signature("nope")))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == 'Serving signature key "nope" not found.'


def test_signature_name_parameter_of_another_type_is_invalid_argument(stub):
    request = half_request([1.0], parameters={"signature_name": pb2.InferParameter(int64_param=1)})

    error = rpc_error(stub.ModelInfer, request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "string_param" in error.details() and "int64_param" in error.details()
