"""gRPC messages <-> the data plane's dataclasses: the thin, protobuf-only half of the codec.

Input values arrive either in each input's typed `contents` or, for all inputs at once, in
`raw_input_contents` (one entry per input, in order); mixing the two is an error. Outputs go back
raw when the request came raw, as Triton answers tritonclient, and also whenever an output has
no typed field (FP16, BF16), since the protocol forbids mixing raw and typed outputs.

The answers of Triton's model configuration and statistics extensions are built here too, from
the values serving.apis.oip.model_config and .statistics return.
"""

from __future__ import annotations

from serving import errors
from serving.apis.oip import datatypes, inference, model_config
from serving.apis.oip.statistics import COMPUTE_DURATIONS, REQUEST_DURATIONS
from serving.transports.grpc import grpc_predict_v2_pb2 as pb2


def infer_request_from_proto(request: pb2.ModelInferRequest) -> inference.InferRequest:
    """Decodes a ModelInferRequest, checking every input's values against its shape."""
    raw_contents = list(request.raw_input_contents)
    if raw_contents:
        _check_raw_layout(request, raw_contents)
    inputs = []
    for index, tensor in enumerate(request.inputs):
        datatype = datatypes.datatype(tensor.datatype, input_name=tensor.name)
        shape = datatypes.checked_shape(tensor.name, datatype, tensor.shape)
        if raw_contents:
            array = datatypes.decode_raw(tensor.name, datatype, shape, raw_contents[index])
        else:
            array = _decode_typed(tensor, datatype, shape)
        inputs.append(inference.InferInput(tensor.name, datatype.name, array))
    return inference.InferRequest(
        model_name=request.model_name,
        model_version=request.model_version,
        id=request.id,
        inputs=inputs,
        outputs=[output.name for output in request.outputs],
        signature_name=_signature_name(request.parameters),
    )


def uses_raw_contents(request: pb2.ModelInferRequest) -> bool:
    return len(request.raw_input_contents) > 0


def infer_response_to_proto(response: inference.InferResponse, raw: bool
                            ) -> pb2.ModelInferResponse:
    """Encodes the outputs in raw_output_contents if `raw` or if any output has no typed field."""
    message = pb2.ModelInferResponse(model_name=response.model_name,
                                     model_version=response.model_version, id=response.id)
    raw = raw or any(datatypes.datatype(output.datatype).contents_field is None
                     for output in response.outputs)
    for output in response.outputs:
        tensor = message.outputs.add(name=output.name, datatype=output.datatype,
                                     shape=output.array.shape)
        if raw:
            message.raw_output_contents.append(datatypes.encode_raw(output.array))
        else:
            field = datatypes.datatype(output.datatype).contents_field
            getattr(tensor.contents, field).extend(datatypes.encode_values(output.array))
    return message


def model_metadata_to_proto(metadata: inference.ModelMetadata) -> pb2.ModelMetadataResponse:
    message = pb2.ModelMetadataResponse(name=metadata.name, versions=metadata.versions,
                                        platform=metadata.platform)
    for target, tensors in ((message.inputs, metadata.inputs), (message.outputs, metadata.outputs)):
        for tensor in tensors:
            target.add(name=tensor.name, datatype=tensor.datatype, shape=tensor.shape)
    return message


def model_config_to_proto(config: model_config.ModelConfig) -> pb2.ModelConfigResponse:
    message = pb2.ModelConfigResponse()
    proto = message.config
    proto.name, proto.platform, proto.max_batch_size = (config.name, config.platform,
                                                        config.max_batch_size)
    for target, tensors in ((proto.input, config.inputs), (proto.output, config.outputs)):
        for tensor in tensors:
            target.add(name=tensor.name, data_type=pb2.DataType.Value(tensor.data_type),
                       dims=tensor.dims)
    if config.dynamic_batching is not None:
        batching = config.dynamic_batching
        proto.dynamic_batching.preferred_batch_size.extend(batching.preferred_batch_sizes)
        proto.dynamic_batching.max_queue_delay_microseconds = \
            batching.max_queue_delay_microseconds
    return message


def statistics_to_proto(snapshots) -> pb2.ModelStatisticsResponse:
    """`snapshots`: serving.metrics.StatisticsSnapshot values, one per model version."""
    message = pb2.ModelStatisticsResponse()
    for snapshot in snapshots:
        stats = message.model_stats.add(
            name=snapshot.model, version=str(snapshot.version),
            last_inference=snapshot.last_inference_ms, inference_count=snapshot.inference_count,
            execution_count=snapshot.execution_count)
        for field in REQUEST_DURATIONS:
            _set_duration(getattr(stats.inference_stats, field), getattr(snapshot, field))
        for batch in snapshot.batches:
            entry = stats.batch_stats.add(batch_size=batch.batch_size)
            for field in COMPUTE_DURATIONS:
                _set_duration(getattr(entry, field), getattr(batch, field))
    return message


def _set_duration(target: pb2.StatisticDuration, duration) -> None:
    target.count, target.ns = duration.count, duration.ns


def _check_raw_layout(request: pb2.ModelInferRequest, raw_contents: list[bytes]) -> None:
    if len(raw_contents) != len(request.inputs):
        raise errors.InvalidArgument(
            f"raw_input_contents must hold one entry per input, in the order of `inputs`: "
            f"{len(request.inputs)} inputs, received {len(raw_contents)} entries")
    mixed = [tensor.name for tensor in request.inputs if tensor.HasField("contents")]
    if mixed:
        raise errors.InvalidArgument(
            "A request sends its values either in raw_input_contents or in each input's "
            f"contents, not both; inputs {mixed} set contents while raw_input_contents is used")


def _decode_typed(tensor, datatype: datatypes.Datatype, shape: tuple[int, ...]):
    field = datatype.contents_field
    if field is None:
        return datatypes.decode_values(tensor.name, datatype, shape, (), "contents")
    values = getattr(tensor.contents, field)
    expected = datatypes.element_count(shape)
    if len(values) != expected:
        # Name the fields that do hold values: the usual mistake is the wrong field for the type.
        elsewhere = [f"{other} ({len(getattr(tensor.contents, other))} values)"
                     for other in datatypes.CONTENTS_FIELDS
                     if other != field and len(getattr(tensor.contents, other))]
        hint = f"; values were sent in {', '.join(elsewhere)}" if elsewhere else ""
        raise errors.InvalidArgument(
            f"{datatypes.describe(tensor.name, datatype, shape)} needs {expected} values in "
            f"contents.{field}, received {len(values)}{hint}")
    return datatypes.decode_values(tensor.name, datatype, shape, values, f"contents.{field}")


def _signature_name(parameters) -> str:
    if inference.SIGNATURE_PARAMETER not in parameters:
        return inference.DEFAULT_SIGNATURE
    parameter = parameters[inference.SIGNATURE_PARAMETER]
    if parameter.WhichOneof("parameter_choice") != "string_param":
        raise errors.InvalidArgument(
            f'The "{inference.SIGNATURE_PARAMETER}" parameter must be a string_param. Received: '
            f"{parameter.WhichOneof('parameter_choice') or 'no value'}")
    return parameter.string_param or inference.DEFAULT_SIGNATURE
