"""tensorflow_model_server's flags: names, defaults, forms, checks and messages."""

import pytest

from serving import flags

MODEL = ["--model_base_path=/models/m"]

# Every flag of TF Serving's model_servers/main.cc (tensorflow/serving @9d981c5).
TF_SERVING_FLAGS = [
    "port", "grpc_socket_path", "rest_api_port", "rest_api_num_threads", "rest_api_timeout_in_ms",
    "rest_api_enable_cors_support", "enable_batching", "allow_version_labels_for_unavailable_models",
    "batching_parameters_file", "enable_per_model_batching_parameters", "model_config_file",
    "model_config_file_poll_wait_seconds", "model_name", "model_base_path", "num_load_threads",
    "num_unload_threads", "max_num_load_retries", "load_retry_interval_micros",
    "file_system_poll_wait_seconds", "flush_filesystem_caches", "tensorflow_session_parallelism",
    "tensorflow_session_config_file", "tensorflow_intra_op_parallelism", "tensorflow_inter_op_parallelism",
    "use_alts_credentials", "ssl_config_file", "platform_config_file", "per_process_gpu_memory_fraction",
    "saved_model_tags", "grpc_channel_arguments", "grpc_max_threads", "enable_model_warmup",
    "num_request_iterations_for_warmup", "version", "monitoring_config_file",
    "remove_unused_fields_from_bundle_metagraph", "prefer_tflite_model", "num_tflite_pools",
    "num_tflite_interpreters_per_pool", "enable_signature_method_name_check", "xla_cpu_compilation_enabled",
    "xla_gpu_compilation_enabled", "enable_profiler", "thread_pool_factory_config_file", "mixed_precision",
    "skip_initialize_tpu", "enable_grpc_healthcheck_service", "enable_serialization_as_tensor_content",
]


def _error(argv) -> str:
    with pytest.raises(flags.FlagError) as caught:
        flags.parse_flags(argv)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults_match_tensorflow_model_server():
    options = flags.parse_flags(MODEL)
    assert options.port == 8500
    assert options.model_name == "default"
    assert options.rest_api_port == 0
    assert options.rest_api_timeout_in_ms == 30000
    assert options.file_system_poll_wait_seconds == 1
    assert options.model_config_file_poll_wait_seconds == 0
    assert options.enable_model_warmup is True
    assert options.max_num_load_retries == 5
    assert options.load_retry_interval_micros == 60_000_000
    assert options.saved_model_tags == ("serve",)
    assert options.enable_batching is False
    assert options.grpc_channel_arguments == ()
    assert options.grpc_bind_address == "0.0.0.0"
    assert options.given == {"model_base_path"}


SAMPLE_VALUES = {
    flags._parse_int: "1",
    flags._parse_float: "0.5",
    flags._parse_str: "x",
    flags._parse_tags: "serve",
    flags.parse_channel_arguments: "grpc.max_connection_age_ms=2000",
}
# What else a flag needs next to it to make a valid command line.
COMPANIONS = {"model_config_file": [], "model_base_path": [], "batching_parameters_file": ["--enable_batching", *MODEL]}


@pytest.mark.parametrize("name", TF_SERVING_FLAGS)
def test_every_tf_serving_flag_is_accepted(name):
    flag = flags._BY_NAME[name]
    argv = [f"--{name}"] if flag.is_bool else [f"--{name}={SAMPLE_VALUES[flag.parse]}"]
    assert name in flags.parse_flags([*argv, *COMPANIONS.get(name, MODEL)]).given


def test_flag_value_and_flag_equals_value_forms_are_the_same():
    spaced = flags.parse_flags(["--model_base_path", "/m", "--port", "9000", "--model_name", "mnist"])
    joined = flags.parse_flags(["--model_base_path=/m", "--port=9000", "--model_name=mnist"])
    assert vars(spaced) == vars(joined)
    assert (joined.port, joined.model_name) == (9000, "mnist")


@pytest.mark.parametrize("argv, expected", [
    (["--enable_batching"], True),
    (["--enable_batching=true"], True),
    (["--enable_batching=1"], True),
    (["--enable_batching=false"], False),
    (["--enable_batching=0"], False),
    (["--enable_batching", "false"], False),
    (["--enable_batching=True"], True),
])
def test_boolean_flag_forms(argv, expected):
    assert flags.parse_flags([*argv, *MODEL]).enable_batching is expected


def test_grpc_channel_arguments_pass_integers_as_integers():
    options = flags.parse_flags([*MODEL, "--grpc_channel_arguments=grpc.max_receive_message_length=1024,"
                                          "grpc.primary_user_agent=zoo,grpc.big=99999999999"])
    assert options.grpc_channel_arguments == (
        ("grpc.max_receive_message_length", 1024), ("grpc.primary_user_agent", "zoo"), ("grpc.big", "99999999999"),
    )


def test_saved_model_tags_are_comma_separated():
    assert flags.parse_flags([*MODEL, "--saved_model_tags=serve,gpu"]).saved_model_tags == ("serve", "gpu")


def test_unknown_flag_names_it_and_suggests_the_closest():
    assert _error([*MODEL, "--model_nmae=x"]) == "unknown flag --model_nmae; did you mean --model_name?"


def test_unknown_flag_without_close_match_points_to_help():
    assert _error([*MODEL, "--frobnicate"]) == "unknown flag --frobnicate; run zoo-serve --help for the list"


def test_single_dash_flag_is_explained():
    assert "two dashes" in _error(["-port=1", *MODEL])


def test_positional_argument_is_rejected():
    assert _error([*MODEL, "serve"]).startswith("unexpected argument 'serve'")


def test_invalid_integer_says_what_and_gives_an_example():
    assert _error([*MODEL, "--port=http"]) == "invalid value for --port: 'http' is not an integer. Example: --port=8500"


def test_invalid_boolean_lists_accepted_values():
    assert _error([*MODEL, "--enable_model_warmup=yes"]) == (
        "invalid value for --enable_model_warmup: 'yes' is not a boolean; use true, false, 1 or 0. "
        "Example: --enable_model_warmup=true")


def test_invalid_channel_argument_shows_the_form():
    message = _error([*MODEL, "--grpc_channel_arguments=grpc.max_receive_message_length"])
    assert message.startswith("invalid value for --grpc_channel_arguments: 'grpc.max_receive_message_length' is not key=value")


def test_port_out_of_range_is_rejected():
    assert _error([*MODEL, "--port=70000"]) == "invalid value for --port: 70000 is not a port; use 0-65535"


def test_negative_count_is_rejected():
    assert "is negative" in _error([*MODEL, "--max_num_load_retries=-1"])


def test_value_missing_at_the_end_is_explained():
    assert _error([*MODEL, "--port"]).startswith("--port needs a value")


def test_model_config_file_excludes_model_name_and_base_path():
    assert _error(["--model_config_file=/m.config", "--model_name=x", "--model_base_path=/m"]).startswith(
        "--model_config_file cannot be combined with --model_name and --model_base_path")


def test_no_model_at_all_is_an_error():
    assert _error([]).startswith("no model to serve: give --model_base_path=DIR")


def test_model_name_without_base_path_is_an_error():
    assert _error(["--model_name=m"]).startswith("--model_name=m needs --model_base_path=DIR")


def test_port_zero_needs_a_socket_path():
    assert _error([*MODEL, "--port=0"]).startswith("--port=0 turns the TCP port off")
    assert flags.parse_flags([*MODEL, "--port=0", "--grpc_socket_path=/tmp/s"]).port == 0


def test_batching_parameters_file_needs_enable_batching():
    assert _error([*MODEL, "--batching_parameters_file=/b.config"]) == "--batching_parameters_file needs --enable_batching"


def test_rest_api_docs_is_off_by_default_and_needs_the_rest_port():
    assert flags.parse_flags(MODEL).rest_api_docs is False
    assert flags.parse_flags([*MODEL, "--rest_api_port=8501", "--rest_api_docs"]).rest_api_docs
    assert _error([*MODEL, "--rest_api_docs"]).startswith(
        "--rest_api_docs serves the docs page on the REST port: give --rest_api_port too")


def test_all_three_parallelism_flags_are_rejected_as_in_tf_serving():
    argv = [*MODEL, "--tensorflow_session_parallelism=2", "--tensorflow_intra_op_parallelism=2",
            "--tensorflow_inter_op_parallelism=2"]
    assert _error(argv).startswith("set either --tensorflow_session_parallelism")


def test_version_needs_no_model():
    assert flags.parse_flags(["--version"]).version is True


def test_each_unimplemented_flag_given_gets_one_warning_naming_it():
    options = flags.parse_flags([*MODEL, "--enable_profiler", "--xla_cpu_compilation_enabled", "--port=9000"])
    assert flags.unimplemented_flag_warnings(options) == [
        "--xla_cpu_compilation_enabled is accepted but not implemented yet; it has no effect",
        "--enable_profiler is accepted but not implemented yet; it has no effect",
    ]


def test_implemented_serving_features_give_no_warning():
    options = flags.parse_flags([*MODEL, "--enable_batching", "--rest_api_port=8501",
                                 "--monitoring_config_file=/m.config", "--prefer_tflite_model"])
    assert flags.unimplemented_flag_warnings(options) == []


def test_help_groups_every_flag_with_its_default():
    text = flags.help_text()
    titles = [title for title, _ in flags.GROUP_TITLES.values()]
    assert [text.index(title) for title in titles] == sorted(text.index(title) for title in titles)
    for name in TF_SERVING_FLAGS:
        assert f"--{name} " in text
    assert "(default: 8500)" in text and "not implemented yet" in text
