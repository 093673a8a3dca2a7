"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the REST bodies, for any model.

These are the shapes serving/transports/rest writes and reads (tfs_tensors.py, tfs_examples.py,
oip_json.py, and json_format for status and metadata), written out for clients and checked
against the real server by the schemathesis test. Tensor values are left open here (any JSON
value); a model's own document narrows them to its signatures (signature_schemas.py).
"""

from __future__ import annotations

from serving.apis.oip.statistics import CACHE_DURATIONS, COMPUTE_DURATIONS, REQUEST_DURATIONS

ANY = {}
# A float answer. NaN, Infinity and -Infinity are written unquoted, as TF Serving writes them;
# JSON has no such values, so no JSON Schema type names them: "none of the other types" is
# "number" for any JSON value, and admits those three as parsers that know them read them.
ANSWER_NUMBER = {"not": {"type": ["string", "boolean", "null", "array", "object"]},
                 "description": "A number, or NaN, Infinity, -Infinity written unquoted."}
_STRING_LIST = {"type": "array", "items": {"type": "string"}}
# TF Serving prints int64 fields (versions, error codes' numbers) as strings.
_INT64_TEXT = {"type": "string", "pattern": "^-?[0-9]+$"}
B64_VALUE = {"type": "object", "properties": {"b64": {"type": "string", "contentEncoding": "base64"}},
             "required": ["b64"], "additionalProperties": False,
             "description": "Binary data, base64-encoded."}
_FEATURE_VALUE = {"anyOf": [{"type": "number"}, {"type": "string"}, B64_VALUE,
                            {"type": "array", "items": {"anyOf": [{"type": "number"},
                                                                  {"type": "string"}, B64_VALUE]}}]}
_EXAMPLE = {"type": "object", "additionalProperties": _FEATURE_VALUE,
            "description": "A tf.Example: feature name -> value or list of values."}
_SIGNATURE_NAME = {"type": "string", "description": "The signature to run (serving_default when "
                                                    "absent, for Predict)."}
_OIP_PARAMETERS = {"type": "object", "additionalProperties": True}
_OIP_TENSOR_METADATA = {
    "type": "object", "required": ["name", "datatype", "shape"],
    "properties": {"name": {"type": "string"}, "datatype": {"type": "string"},
                   "shape": {"type": "array", "items": {"type": "integer"}}}}
_OIP_OUTPUT = {
    "type": "object", "required": ["name", "datatype", "shape"],
    "properties": {"name": {"type": "string"}, "datatype": {"type": "string"},
                   "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                   "data": {"type": "array"},
                   "parameters": {"type": "object",
                                  "properties": {"binary_data_size": {"type": "integer"}}}}}

_TRITON_TENSOR_CONFIG = {
    "type": "object", "required": ["name", "data_type", "dims"],
    "properties": {"name": {"type": "string"},
                   "data_type": {"type": "string", "description": "TYPE_FP32, TYPE_STRING, ..."},
                   "dims": {"type": "array", "items": {"type": "integer"},
                            "description": "Without the batch dimension when max_batch_size > 0; "
                                           "-1 where the size varies."}}}
_DURATION = {"type": "object", "required": ["count", "ns"],
             "properties": {"count": {"type": "integer", "minimum": 0},
                            "ns": {"type": "integer", "minimum": 0}}}
_INFERENCE_DURATIONS = (*REQUEST_DURATIONS, *CACHE_DURATIONS)
_VERSION_STATISTICS = {
    "type": "object",
    "required": ["name", "version", "last_inference", "inference_count", "execution_count",
                 "inference_stats", "batch_stats"],
    "properties": {
        "name": {"type": "string"}, "version": {"type": "string"},
        "last_inference": {"type": "integer", "description": "Milliseconds since the epoch."},
        "inference_count": {"type": "integer", "minimum": 0},
        "execution_count": {"type": "integer", "minimum": 0},
        "inference_stats": {"type": "object", "required": list(_INFERENCE_DURATIONS),
                            "properties": dict.fromkeys(_INFERENCE_DURATIONS, _DURATION)},
        "batch_stats": {"type": "array", "items": {
            "type": "object", "required": ["batch_size", *COMPUTE_DURATIONS],
            "properties": {"batch_size": {"type": "integer", "minimum": 0,
                                          "description": "0 for requests of an empty batch."},
                           **dict.fromkeys(COMPUTE_DURATIONS, _DURATION)}}}}}


def component_schemas() -> dict[str, dict]:
    """Component name -> schema, for every body the routes document."""
    return {
        "Error": {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {"type": "string", "description": "What went wrong."}},
            "description": "Every error answer: the message, with the HTTP status of its gRPC "
                           "code (400 INVALID_ARGUMENT, 404 NOT_FOUND, ...).",
        },
        "PredictRequest": {
            "type": "object",
            "properties": {"signature_name": _SIGNATURE_NAME,
                           "instances": {"type": "array", "items": ANY,
                                         "description": "Row format: one entry per example."},
                           "inputs": {"description": "Columnar format: one value, or an object "
                                                     "of input name -> value."}},
            "description": 'Exactly one of "instances" and "inputs".',
        },
        "PredictResponse": {
            "type": "object",
            "properties": {"predictions": {"type": "array", "items": ANY},
                           "outputs": {"description": "Columnar answer: one value, or an object "
                                                      "of output name -> value."}},
            "description": '"predictions" for a row request, "outputs" for a columnar one.',
        },
        "ExamplesRequest": {
            "type": "object", "required": ["examples"],
            "properties": {"signature_name": _SIGNATURE_NAME,
                           "context": _EXAMPLE,
                           "examples": {"type": "array", "items": _EXAMPLE, "minItems": 1}},
        },
        "ClassifyResponse": {
            "type": "object", "required": ["results"],
            "properties": {"results": {
                "type": "array", "description": "Per example, [label, score] per class.",
                "items": {"type": "array", "items": {
                    "type": "array", "items": {"anyOf": [{"type": "string"}, ANSWER_NUMBER]},
                    "minItems": 2, "maxItems": 2, "description": "[label, score]"}}}},
        },
        "RegressResponse": {
            "type": "object", "required": ["results"],
            "properties": {"results": {"type": "array", "items": ANSWER_NUMBER}},
        },
        "StatusResponse": {
            "type": "object", "required": ["model_version_status"],
            "properties": {"model_version_status": {"type": "array", "items": {
                "type": "object", "required": ["version", "state", "status"],
                "properties": {
                    "version": _INT64_TEXT,
                    "state": {"enum": ["UNKNOWN", "START", "LOADING", "AVAILABLE", "UNLOADING",
                                       "END"]},
                    "status": {"type": "object",
                               "properties": {"error_code": {"type": "string"},
                                              "error_message": {"type": "string"}}}}}}},
        },
        "MetadataResponse": {
            "type": "object", "required": ["model_spec", "metadata"],
            "properties": {
                "model_spec": {"type": "object", "properties": {
                    "name": {"type": "string"}, "version": _INT64_TEXT,
                    "signature_name": {"type": "string"}}},
                "metadata": {"type": "object", "required": ["signature_def"], "properties": {
                    "signature_def": {"type": "object", "properties": {
                        "signature_def": {"type": "object", "additionalProperties": {
                            "type": "object", "description": "A SignatureDef: inputs, outputs "
                                                             "(TensorInfo by alias), method_name."}}}}}}},
        },
        "OipLiveResponse": {"type": "object", "required": ["live"],
                            "properties": {"live": {"type": "boolean"}}},
        "OipReadyResponse": {"type": "object", "required": ["ready"],
                             "properties": {"ready": {"type": "boolean"}}},
        "OipServerMetadataResponse": {
            "type": "object", "required": ["name", "version", "extensions"],
            "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                           "extensions": _STRING_LIST}},
        "OipModelMetadataResponse": {
            "type": "object", "required": ["name", "versions", "platform", "inputs", "outputs"],
            "properties": {"name": {"type": "string"}, "versions": _STRING_LIST,
                           "platform": {"type": "string"},
                           "inputs": {"type": "array", "items": _OIP_TENSOR_METADATA},
                           "outputs": {"type": "array", "items": _OIP_TENSOR_METADATA}}},
        "OipModelReadyResponse": {"type": "object", "required": ["name", "ready"],
                                  "properties": {"name": {"type": "string"},
                                                 "ready": {"type": "boolean"}}},
        "OipInferRequest": {
            "type": "object", "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": _OIP_PARAMETERS,
                "inputs": {"type": "array", "items": {
                    "type": "object", "required": ["name", "datatype", "shape"],
                    "properties": {"name": {"type": "string"}, "datatype": {"type": "string"},
                                   "shape": {"type": "array", "items": {"type": "integer"}},
                                   "data": {"type": "array"}, "parameters": _OIP_PARAMETERS}}},
                "outputs": {"type": "array", "items": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "parameters": _OIP_PARAMETERS}}}}},
        "OipInferResponse": {
            "type": "object", "required": ["model_name", "model_version", "outputs"],
            "properties": {"model_name": {"type": "string"}, "model_version": {"type": "string"},
                           "id": {"type": "string"},
                           "outputs": {"type": "array", "items": _OIP_OUTPUT}}},
        "OipModelConfigResponse": {
            "type": "object", "required": ["name", "platform", "max_batch_size", "input", "output"],
            "properties": {
                "name": {"type": "string"},
                "platform": {"enum": ["tensorflow_savedmodel", "tensorflow_lite"]},
                "max_batch_size": {"type": "integer", "minimum": 0},
                "input": {"type": "array", "items": _TRITON_TENSOR_CONFIG},
                "output": {"type": "array", "items": _TRITON_TENSOR_CONFIG},
                "dynamic_batching": {"type": "object", "properties": {
                    "preferred_batch_size": {"type": "array", "items": {"type": "integer"}},
                    "max_queue_delay_microseconds": {"type": "integer", "minimum": 0}}}}},
        "OipModelStatisticsResponse": {
            "type": "object", "required": ["model_stats"],
            "properties": {"model_stats": {"type": "array", "items": _VERSION_STATISTICS}}},
    }
