"""gRPC message encoding of responses: when outputs go raw and when typed."""

from __future__ import annotations

import numpy as np

from serving.apis.oip import inference
from serving.transports.grpc import oip_messages as messages


def response_with(*outputs: tuple[str, str, np.ndarray]) -> inference.InferResponse:
    return inference.InferResponse(
        model_name="m", model_version="1", id="r",
        outputs=tuple(inference.InferOutput(name, datatype, array)
                      for name, datatype, array in outputs))


def test_an_output_without_a_typed_field_makes_the_whole_response_raw():
    response = response_with(("a", "FP32", np.array([1.0], np.float32)),
                             ("b", "FP16", np.array([2.0], np.float16)))

    message = messages.infer_response_to_proto(response, raw=False)

    assert [output.HasField("contents") for output in message.outputs] == [False, False]
    assert message.raw_output_contents == [np.array([1.0], "<f4").tobytes(),
                                           np.array([2.0], "<f2").tobytes()]


def test_typed_response_carries_name_version_id_datatype_and_shape():
    response = response_with(("a", "INT16", np.array([[1, -2]], np.int16)))

    message = messages.infer_response_to_proto(response, raw=False)

    assert (message.model_name, message.model_version, message.id) == ("m", "1", "r")
    output = message.outputs[0]
    assert (output.name, output.datatype, list(output.shape)) == ("a", "INT16", [1, 2])
    assert list(output.contents.int_contents) == [1, -2]
    assert len(message.raw_output_contents) == 0
