"""Request building and response reading for every call, shared by `Client` and `AsyncClient`.

Everything here is pure: protobuf in, Python values out (or the reverse), so the two clients
differ only in how they wait for the network.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np
from tfzoo_client._proto.tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)

from tfzoo_client.examples import Example, input_proto
from tfzoo_client.metadata import SIGNATURE_DEF_FIELD
from tfzoo_client.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray


class ClassScore(NamedTuple):
    """One class of a Classify result: its label (empty when the model gives none) and score."""

    label: str
    score: float


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """Which servable a call addresses: a model, and at most one of a version or a label."""

    name: str
    version: int | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"model must be a non-empty string. Received: model={self.name!r}")
        if self.version is not None and self.label is not None:
            raise ValueError(
                "pass a version or a label, not both. "
                f"Received: version={self.version}, label={self.label!r}"
            )
        if self.version is not None and (isinstance(self.version, bool) or not isinstance(self.version, int)
                                          or self.version < 0):
            raise ValueError(f"version must be a non-negative integer. Received: version={self.version!r}")
        if self.label is not None and (not isinstance(self.label, str) or not self.label):
            raise ValueError(f"label must be a non-empty string. Received: label={self.label!r}")

    def spec(self, signature: str = "") -> model_pb2.ModelSpec:
        spec = model_pb2.ModelSpec(name=self.name, signature_name=signature)
        if self.version is not None:
            spec.version.value = self.version
        elif self.label is not None:
            spec.version_label = self.label
        return spec


def predict_request(ref: ModelRef, signature: str, arrays: Mapping[str, np.ndarray],
                    output_filter: Sequence[str] | None) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest(model_spec=ref.spec(signature))
    for alias, array in arrays.items():
        request.inputs[alias].CopyFrom(ndarray_to_tensor_proto(array))
    if output_filter is not None:
        if isinstance(output_filter, str):
            output_filter = [output_filter]
        request.output_filter.extend(output_filter)
    return request


def predict_outputs(response: predict_pb2.PredictResponse) -> dict[str, np.ndarray]:
    """The response's tensors by alias, as writable numpy arrays (strings as object arrays of bytes)."""
    outputs = {}
    for alias in sorted(response.outputs):
        array = tensor_proto_to_ndarray(response.outputs[alias], alias)
        outputs[alias] = array if array.flags.writeable else array.copy()
    return outputs


def metadata_request(ref: ModelRef, extra_fields: Iterable[str] = ()
                     ) -> get_model_metadata_pb2.GetModelMetadataRequest:
    return get_model_metadata_pb2.GetModelMetadataRequest(
        model_spec=ref.spec(), metadata_field=[SIGNATURE_DEF_FIELD, *extra_fields]
    )


def status_request(ref: ModelRef) -> get_model_status_pb2.GetModelStatusRequest:
    if ref.label is not None:
        raise ValueError(f"status takes a version, not a label. Received: label={ref.label!r}")
    return get_model_status_pb2.GetModelStatusRequest(model_spec=ref.spec())


def classification_request(ref: ModelRef, signature: str, examples: Iterable[Example],
                           context: Example | None) -> classification_pb2.ClassificationRequest:
    return classification_pb2.ClassificationRequest(
        model_spec=ref.spec(signature), input=input_proto(examples, context)
    )


def classification_results(response: classification_pb2.ClassificationResponse) -> list[list[ClassScore]]:
    """One list of (label, score) per example, in the order the model gives its classes."""
    return [
        [ClassScore(item.label, float(item.score)) for item in classifications.classes]
        for classifications in response.result.classifications
    ]


def regression_request(ref: ModelRef, signature: str, examples: Iterable[Example],
                       context: Example | None) -> regression_pb2.RegressionRequest:
    return regression_pb2.RegressionRequest(model_spec=ref.spec(signature), input=input_proto(examples, context))


def regression_values(response: regression_pb2.RegressionResponse) -> np.ndarray:
    """One float32 value per example."""
    return np.array([regression.value for regression in response.result.regressions], dtype=np.float32)


def served_version(response) -> int | None:
    """The version that answered, when the response says (TF Serving fills model_spec)."""
    return response.model_spec.version.value if response.model_spec.HasField("version") else None

