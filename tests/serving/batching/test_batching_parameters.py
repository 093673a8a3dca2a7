"""BatchingParameters files: TF Serving's text parses unchanged, defaults, one-line errors."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor, descriptor_pool

from serving.batching import (PER_MODEL_FILE, BatchingOptions, BatchingParametersError,
                              BatchingPolicy, batching_parameters_pb2, parse_batching_parameters,
                              read_batching_parameters_file)
from serving.main import main

# A batching_parameters_file as TF Serving's documentation writes one, every field set.
TF_SERVING_FILE = """
max_batch_size { value: 32 }
batch_timeout_micros { value: 2000 }
max_enqueued_batches { value: 100 }
num_batch_threads { value: 3 }
thread_pool_name { value: "model_server_batch_threads" }
enable_large_batch_splitting { value: true }
max_execution_batch_size { value: 16 }
allowed_batch_sizes: 8
allowed_batch_sizes: 16
allowed_batch_sizes: 32
pad_variable_length_inputs: true
"""


def test_tf_serving_batching_parameters_text_parses_unchanged():
    options = parse_batching_parameters(TF_SERVING_FILE)

    assert options == BatchingOptions(
        max_batch_size=32, batch_timeout_micros=2000, max_enqueued_batches=100,
        num_batch_threads=3, thread_pool_name="model_server_batch_threads",
        enable_large_batch_splitting=True, max_execution_batch_size=16,
        allowed_batch_sizes=(8, 16, 32), pad_variable_length_inputs=True)
    assert options.execution_batch_size == 16


def test_unset_fields_take_tf_serving_defaults():
    options = parse_batching_parameters("max_batch_size { value: 4 }")

    assert (options.max_batch_size, options.batch_timeout_micros, options.max_enqueued_batches,
            options.allowed_batch_sizes, options.pad_variable_length_inputs) == (
                4, 0, 10, (), False)
    assert options.num_batch_threads >= 1
    assert BatchingOptions().max_batch_size == 1000


def test_message_has_tf_servings_field_names_numbers_and_wrapper_types():
    fields = {field.name: (field.number, field.message_type.full_name if field.message_type
                           else field.type)
              for field in batching_parameters_pb2.BatchingParameters.DESCRIPTOR.fields}

    assert batching_parameters_pb2.BatchingParameters.DESCRIPTOR.full_name == (
        "tensorflow.serving.BatchingParameters")
    assert fields == {
        "max_batch_size": (1, "google.protobuf.Int64Value"),
        "batch_timeout_micros": (2, "google.protobuf.Int64Value"),
        "max_enqueued_batches": (3, "google.protobuf.Int64Value"),
        "num_batch_threads": (4, "google.protobuf.Int64Value"),
        "thread_pool_name": (5, "google.protobuf.StringValue"),
        "allowed_batch_sizes": (6, descriptor.FieldDescriptor.TYPE_INT64),
        "pad_variable_length_inputs": (7, descriptor.FieldDescriptor.TYPE_BOOL),
        "enable_large_batch_splitting": (8, "google.protobuf.BoolValue"),
        "max_execution_batch_size": (9, "google.protobuf.Int64Value"),
    }


def test_generated_message_lives_in_a_private_descriptor_pool():
    assert batching_parameters_pb2.DESCRIPTOR.pool is not descriptor_pool.Default()
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("tensorflow.serving.BatchingParameters")
    # The wire format is TF Serving's: field 1 holding an Int64Value whose field 1 is 32.
    message = batching_parameters_pb2.BatchingParameters()
    message.max_batch_size.value = 32
    assert message.SerializeToString() == bytes([0x0A, 0x02, 0x08, 0x20])


@pytest.mark.parametrize("text,reason", [
    ("max_batch_size: 32", "Error parsing text-format tensorflow.serving.BatchingParameters: 1:"),
    ("max_batch_sise { value: 32 }", "max_batch_sise"),
    ("max_batch_size { value: 0 }", "max_batch_size must be >= 1. Received: max_batch_size=0"),
    ("max_batch_size { value: 8 } allowed_batch_sizes: 2 allowed_batch_sizes: 4",
     "Last entry in allowed_batch_sizes must match max_batch_size; last entry was 4; expected 8"),
    ("max_batch_size { value: 8 } allowed_batch_sizes: 4 allowed_batch_sizes: 2 "
     "allowed_batch_sizes: 8", "strictly increasing"),
    ("num_batch_threads { value: 0 }", "num_batch_threads must be >= 1"),
])
def test_unusable_parameters_are_one_line_errors_naming_the_source(text, reason):
    with pytest.raises(BatchingParametersError) as caught:
        parse_batching_parameters(text, source="params.txt")

    message = str(caught.value)
    assert "params.txt" in message
    assert reason in message
    assert "\n" not in message


def test_missing_file_error_names_the_path(tmp_path):
    with pytest.raises(BatchingParametersError, match=f"cannot read batching parameters file "
                                                      f"{tmp_path / 'absent.txt'}"):
        read_batching_parameters_file(str(tmp_path / "absent.txt"))


def test_cli_exits_2_with_one_line_for_an_unusable_parameters_file(tmp_path, capsys):
    bad = tmp_path / "batching.txt"
    bad.write_text("max_batch_size: 32\n")

    status = main([f"--model_base_path={tmp_path}", "--enable_batching",
                   f"--batching_parameters_file={bad}"])

    error = capsys.readouterr().err.strip()
    assert status == 2
    assert len(error.splitlines()) == 1
    assert str(bad) in error and "BatchingParameters" in error


def test_flags_give_tf_serving_defaults_without_a_file_and_nothing_without_batching():
    assert BatchingPolicy.from_flags(enable_batching=False) is None
    assert BatchingPolicy.from_flags(enable_batching=True).options == BatchingOptions()


def test_per_model_policy_batches_only_versions_with_their_own_file(tmp_path):
    with_file, without_file = tmp_path / "1", tmp_path / "2"
    with_file.mkdir()
    without_file.mkdir()
    (with_file / PER_MODEL_FILE).write_text("max_batch_size { value: 4 }")
    policy = BatchingPolicy(BatchingOptions(max_batch_size=64, num_batch_threads=3), per_model=True)

    options = policy.options_for_version(str(with_file))

    assert options.max_batch_size == 4
    assert options.num_batch_threads == 3  # the server-wide batch thread count
    assert policy.options_for_version(str(without_file)) is None
    assert BatchingPolicy(BatchingOptions(max_batch_size=64)).options_for_version(
        str(without_file)).max_batch_size == 64
