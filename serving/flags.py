"""tensorflow_model_server's command line -> ServerOptions, so a TF Serving command works unchanged.

Every flag of TF Serving's model_servers/main.cc is here with its name and meaning; its default
is the ServerOptions field of the same name. Flags this server does not implement yet are
accepted so existing command lines keep working, and `unimplemented_flag_warnings` names each one
the user gave. Both `--flag=value` and `--flag value` work; booleans also take `--flag` alone and
`--flag=true|false|1|0`. Nothing here reads a file or imports TensorFlow: `--help` and
`--version` are instant.

A mistake (unknown flag, bad value, conflicting flags) raises FlagError with a one-line message
saying what is wrong and how to fix it; `serving.main` prints it and exits with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib.metadata
from typing import Any, Callable, Sequence

import serving
from serving.options import INT32_MAX, OptionsError, ServerOptions

PROG = "zoo-serve"
_DEFAULTS = {field.name: field.default for field in dataclasses.fields(ServerOptions)}


class FlagError(OptionsError):
    """A command line that cannot be served: the message says what is wrong and how to fix it."""


# === Value parsers: each raises ValueError with the reason a value is rejected ===


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"{text!r} is not a boolean; use true, false, 1 or 0")


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an integer") from None


def _parse_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _parse_str(text: str) -> str:
    return text


def _parse_tags(text: str) -> tuple[str, ...]:
    tags = tuple(tag.strip() for tag in text.split(",") if tag.strip())
    if not tags:
        raise ValueError(f"{text!r} names no tag; give comma-separated tags such as serve,gpu")
    return tags


def parse_channel_arguments(text: str) -> tuple[tuple[str, int | str], ...]:
    """`k=v,k2=v2` -> [(k, v), ...], values that fit an int32 as int (as TF Serving does)."""
    arguments = []
    for item in text.split(","):
        if not item.strip():
            continue
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"{item!r} is not key=value")
        arguments.append((key.strip(), _channel_argument_value(value.strip())))
    return tuple(arguments)


def _channel_argument_value(value: str) -> int | str:
    try:
        number = int(value)
    except ValueError:
        return value
    return number if -(2**31) <= number <= INT32_MAX else value


# === The flag table ===

SERVER, MODELS, BATCHING, RUNTIME, MONITORING = (
    "server", "models", "batching", "runtime", "monitoring",
)
GROUP_TITLES = {
    SERVER: ("Server (gRPC and REST)", "Where and how the server listens."),
    MODELS: ("Models, versions, reloading and warmup",
             "Serve one model with --model_name/--model_base_path, or several with "
             "--model_config_file (TF Serving's ModelServerConfig text format)."),
    BATCHING: ("Batching", "Server-side batching of concurrent requests."),
    RUNTIME: ("TensorFlow runtime", "Threads, devices and graph options of TensorFlow."),
    MONITORING: ("Monitoring, security and other", None),
}


@dataclasses.dataclass(frozen=True)
class Flag:
    """One command-line flag: its TF Serving name, parser and help (the default is the
    ServerOptions field's)."""

    name: str
    group: str
    parse: Callable[[str], Any]
    help: str
    implemented: bool = True
    # What --help shows as the default when `default` alone would mislead.
    default_text: str | None = None

    @property
    def default(self) -> Any:
        return _DEFAULTS[self.name]

    @property
    def is_bool(self) -> bool:
        return self.parse is _parse_bool


_NOT_YET = " [Accepted; not implemented yet.]"

FLAGS: tuple[Flag, ...] = (
    # --- server ---
    Flag("port", SERVER, _parse_int,
         "TCP port for the gRPC API. 0 turns TCP off (then --grpc_socket_path is required)."),
    Flag("grpc_bind_address", SERVER, _parse_str,
         "(tfzoo) Address the gRPC port binds to. TF Serving always binds 0.0.0.0, all "
         "interfaces; use 127.0.0.1 to accept local clients only."),
    Flag("grpc_socket_path", SERVER, _parse_str,
         "If set, also serve the gRPC API on this UNIX socket (relative or absolute path)."),
    Flag("grpc_channel_arguments", SERVER, parse_channel_arguments,
         "Comma-separated gRPC server arguments, e.g. grpc.max_receive_message_length=1048576,"
         "grpc.max_connection_age_ms=2000. Integer values are passed as integers. Message size "
         "limits default to 2147483647 bytes, as in TF Serving.", default_text="''"),
    Flag("grpc_max_threads", SERVER, _parse_int,
         "Maximum number of threads handling gRPC calls (Predict and ModelInfer run on the "
         "server's event loop and use a thread only for a model call that is not batched). When "
         "given, it is also the most calls in flight: one more is refused with "
         "RESOURCE_EXHAUSTED instead of queueing.",
         default_text="4 x CPU count, plus enough to fill the batches with --enable_batching"),
    Flag("enable_grpc_healthcheck_service", SERVER, _parse_bool,
         "Enable the standard grpc.health.v1 service. tfzoo always serves it (server status "
         "under '', one entry per model); the flag is accepted for compatibility."),
    Flag("rest_api_port", SERVER, _parse_int,
         "Port for the HTTP/REST API (TF Serving's /v1 API, the Open Inference Protocol's /v2 "
         "endpoints, the Prometheus page), bound on --grpc_bind_address; 0 turns it off."),
    Flag("rest_api_num_threads", SERVER, _parse_int,
         "Threads running HTTP/REST model calls at once.",
         default_text="4 x CPU count, plus enough to fill the batches with --enable_batching"),
    Flag("rest_api_timeout_in_ms", SERVER, _parse_int,
         "An HTTP/REST model call not answered within this time gets 504; 0 or less waits "
         "without limit."),
    Flag("rest_api_enable_cors_support", SERVER, _parse_bool,
         "Send CORS headers (Access-Control-Allow-Origin: *) in HTTP/REST responses."),
    Flag("rest_api_max_request_bytes", SERVER, _parse_int,
         "(tfzoo) Largest HTTP/REST request body, before and after gzip/deflate decoding; a "
         "larger one gets 413.", default_text="67108864 (64 MiB)"),
    Flag("rest_api_docs", SERVER, _parse_bool,
         "(tfzoo) Serve an interactive reference of the REST API at /docs (Swagger UI, bundled, "
         "no CDN) over its OpenAPI documents (/v1/openapi.json, /v1/models/NAME/openapi.json, "
         "always served); needs --rest_api_port, and the token with --auth_token_file."),
    Flag("shutdown_grace_seconds", SERVER, _parse_float,
         "(tfzoo) On SIGTERM/SIGINT, how long in-flight calls may take to finish before they "
         "are cancelled."),
    # --- models ---
    Flag("model_name", MODELS, _parse_str,
         "Name of the model served from --model_base_path."),
    Flag("model_base_path", MODELS, _parse_str,
         "Directory holding the model's numbered version directories (BASE/1, BASE/2...), "
         "not a version directory itself."),
    Flag("model_config_file", MODELS, _parse_str,
         "A ModelServerConfig text file listing the models, their version policies and labels. "
         "Excludes --model_name/--model_base_path."),
    Flag("model_config_file_poll_wait_seconds", MODELS, _parse_float,
         "Seconds between re-reads of --model_config_file; a changed file replaces the model "
         "list. 0 reads it once at start-up."),
    Flag("file_system_poll_wait_seconds", MODELS, _parse_float,
         "Seconds between scans of the base paths for new or removed versions. 0 scans once at "
         "start-up and at each config reload."),
    Flag("allow_version_labels_for_unavailable_models", MODELS, _parse_bool,
         "Allow a version label to point to a version that is not loaded yet."),
    Flag("max_num_load_retries", MODELS, _parse_int,
         "How many times a failed load is retried before giving up; 0 tries once."),
    Flag("load_retry_interval_micros", MODELS, _parse_int,
         "Microseconds between load retries; negative retries without waiting.", default_text="60000000 (1 minute)"),
    Flag("enable_model_warmup", MODELS, _parse_bool,
         "Replay assets.extra/tf_serving_warmup_requests before a version takes traffic."),
    Flag("num_request_iterations_for_warmup", MODELS, _parse_int,
         "How many times each warmup request is replayed; used only if > 0 (else once)."),
    Flag("saved_model_tags", MODELS, _parse_tags,
         "Comma-separated tags of the MetaGraph to load from each SavedModel.", default_text="serve"),
    Flag("enable_signature_method_name_check", MODELS, _parse_bool,
         "Require Classify/Regress/Predict signatures to carry the matching method_name "
         "(tensorflow/serving/classify...). Leave off to serve native TF2 models."),
    Flag("num_load_threads", MODELS, _parse_int,
         "Versions loaded at the same time. 0 loads one at a time (TF Serving's default); "
         "without the flag tfzoo loads 4 at a time.", default_text="4"),
    Flag("num_unload_threads", MODELS, _parse_int, "Threads unloading versions." + _NOT_YET,
         implemented=False),
    Flag("flush_filesystem_caches", MODELS, _parse_bool,
         "Flush filesystem caches after loads." + _NOT_YET, implemented=False),
    # --- batching ---
    Flag("enable_batching", BATCHING, _parse_bool,
         "Merge concurrent requests to the same model version and signature into batches "
         "(every protocol). A request that finds nothing queued runs at once."),
    Flag("batching_parameters_file", BATCHING, _parse_str,
         "A BatchingParameters text file (max_batch_size, batch_timeout_micros, "
         "max_enqueued_batches, num_batch_threads, allowed_batch_sizes, "
         "pad_variable_length_inputs...); needs --enable_batching. Without it TF Serving's "
         "defaults apply."),
    Flag("enable_per_model_batching_parameters", BATCHING, _parse_bool,
         "With --enable_batching: batch a version only if its SavedModel directory holds "
         "batching_params.pbtxt, with the parameters in that file."),
    # --- TensorFlow runtime ---
    Flag("tensorflow_session_parallelism", RUNTIME, _parse_int,
         "Threads TensorFlow uses for both its intra- and inter-op pools when those are not "
         "set; 0 lets TensorFlow choose."),
    Flag("tensorflow_intra_op_parallelism", RUNTIME, _parse_int,
         "Threads parallelising one op; 0 lets TensorFlow choose."),
    Flag("tensorflow_inter_op_parallelism", RUNTIME, _parse_int,
         "Ops run concurrently; 0 lets TensorFlow choose."),
    Flag("enable_serialization_as_tensor_content", RUNTIME, _parse_bool,
         "Send Predict outputs in tensor_content (one copy of the raw bytes) instead of the typed "
         "fields (float_val, int64_val...) that clients such as TF Serving's examples read; both "
         "are written at numpy speed."),
    Flag("tensorflow_session_config_file", RUNTIME, _parse_str,
         "A TensorFlow ConfigProto text file." + _NOT_YET, implemented=False),
    Flag("platform_config_file", RUNTIME, _parse_str,
         "A PlatformConfigMap text file." + _NOT_YET, implemented=False),
    Flag("per_process_gpu_memory_fraction", RUNTIME, _parse_float,
         "Fraction of GPU memory to take." + _NOT_YET, implemented=False),
    Flag("mixed_precision", RUNTIME, _parse_str, "Mixed precision mode." + _NOT_YET,
         implemented=False),
    Flag("xla_cpu_compilation_enabled", RUNTIME, _parse_bool,
         "Enable XLA:CPU JIT." + _NOT_YET, implemented=False),
    Flag("xla_gpu_compilation_enabled", RUNTIME, _parse_bool,
         "Enable XLA:CPU and XLA:GPU JIT." + _NOT_YET, implemented=False),
    Flag("thread_pool_factory_config_file", RUNTIME, _parse_str,
         "A ThreadPoolConfig text file." + _NOT_YET, implemented=False),
    Flag("remove_unused_fields_from_bundle_metagraph", RUNTIME, _parse_bool,
         "Drop unused MetaGraphDef fields to save memory." + _NOT_YET, implemented=False),
    Flag("prefer_tflite_model", RUNTIME, _parse_bool,
         "Serve a version's model.tflite through tf.lite.Interpreter instead of its SavedModel "
         "when the file is there; versions without one load their SavedModel."),
    Flag("num_tflite_pools", RUNTIME, _parse_int,
         "Interpreter pools per TF Lite version: how many requests one version runs at once "
         "(each holds a pool); 0 means one per CPU.", default_text="CPU count"),
    Flag("num_tflite_interpreters_per_pool", RUNTIME, _parse_int,
         "Interpreters in each pool; a request's batch is split between them and the parts run "
         "in parallel."),
    Flag("skip_initialize_tpu", RUNTIME, _parse_bool,
         "Do not initialise the TPU system." + _NOT_YET, implemented=False),
    # --- monitoring, security, other ---
    Flag("monitoring_config_file", MONITORING, _parse_str,
         "A MonitoringConfig text file; prometheus_config { enable: true path: \"...\" } serves "
         "Prometheus metrics on the REST port (default path /monitoring/prometheus/metrics)."),
    Flag("ssl_config_file", MONITORING, _parse_str,
         "An SSLConfig text file (server_key, server_cert, custom_ca as PEM text; client_verify "
         "for mutual TLS): the gRPC port (and the REST port) serve TLS, or the server does not "
         "start."),
    Flag("auth_token_file", MONITORING, _parse_str,
         "(tfzoo) A file holding a bearer token: every request must send 'authorization: "
         "Bearer TOKEN' or gets UNAUTHENTICATED (HTTP 401). Health checks stay open."),
    Flag("use_alts_credentials", MONITORING, _parse_bool,
         "Use Google ALTS credentials." + _NOT_YET, implemented=False),
    Flag("enable_profiler", MONITORING, _parse_bool,
         "Serve the TensorFlow profiler service." + _NOT_YET, implemented=False),
    Flag("version", MONITORING, _parse_bool, "Print the version and exit."),
    Flag("verbose", MONITORING, _parse_bool,
         "(tfzoo) Also show TensorFlow's own C++ logs (start-up notices, device probing), as "
         "TF_CPP_MIN_LOG_LEVEL=0 does; by default only the server's log lines reach stderr."),
)
_BY_NAME = {flag.name: flag for flag in FLAGS}


# === Parsing ===


class _Parser(argparse.ArgumentParser):
    """argparse that raises FlagError instead of printing usage and exiting."""

    def error(self, message: str):
        raise FlagError(message)


def _build_parser() -> _Parser:
    parser = _Parser(prog=PROG, add_help=False, allow_abbrev=False)
    for flag in FLAGS:
        kwargs = dict(dest=flag.name, default=None)
        if flag.is_bool:
            kwargs.update(nargs="?", const="true")
        parser.add_argument(f"--{flag.name}", **kwargs)
    return parser


def wants_help(argv: Sequence[str]) -> bool:
    """True when the command line asks for --help (which wins over every other flag)."""
    return any(arg in ("-h", "--help", "--helpfull") for arg in argv)


def parse_flags(argv: Sequence[str]) -> ServerOptions:
    """Parses a tensorflow_model_server command line into ServerOptions.

    `options.given` holds the names of the flags that appeared on the command line. With
    --version nothing else is checked, as in TF Serving.

    Raises:
        FlagError: an unknown flag, a bad value or conflicting flags, in one line.
    """
    try:
        raw, extra = _build_parser().parse_known_args(list(argv))
    except FlagError as error:
        raise FlagError(_explain_argparse_error(str(error))) from None
    if extra:
        raise FlagError(_explain_unknown(extra[0]))
    values = {}
    for flag in FLAGS:
        text = getattr(raw, flag.name)
        if text is None:
            continue
        try:
            values[flag.name] = flag.parse(text)
        except ValueError as error:
            raise FlagError(f"invalid value for --{flag.name}: {error}. {_usage_hint(flag)}") from None
    try:
        return ServerOptions(**values, given=frozenset(values))
    except OptionsError as error:
        raise FlagError(str(error)) from None


def unimplemented_flag_warnings(options: ServerOptions) -> list[str]:
    """One line per flag the user gave that this server accepts but does not implement yet."""
    return [f"--{flag.name} is accepted but not implemented yet; it has no effect"
            for flag in FLAGS if flag.name in options.given and not flag.implemented]


def version_text() -> str:
    """What --version prints: this server's version and the TensorFlow it serves with."""
    try:
        tensorflow_version = importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        tensorflow_version = "not installed"
    return f"TensorFlow ModelServer: {serving.__version__} (tfzoo)\nTensorFlow Library: {tensorflow_version}"


def help_text() -> str:
    """--help: the flags in groups, each with its meaning and default."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        add_help=False,
        usage=f"{PROG} --model_base_path=DIR [--model_name=NAME] [--port=8500] [flags]\n"
              f"       {PROG} --model_config_file=FILE [flags]",
        description="TensorFlow Serving's gRPC API (PredictionService, ModelService), served "
                    "from Python. Accepts tensorflow_model_server's flags: --flag=value or "
                    "--flag value; booleans also --flag and --flag=true|false|1|0.",
        formatter_class=lambda prog: argparse.HelpFormatter(prog, max_help_position=40, width=100),
    )
    groups = {key: parser.add_argument_group(title, description)
              for key, (title, description) in GROUP_TITLES.items()}
    for flag in FLAGS:
        metavar = _metavar(flag)
        default = flag.default_text or _default_text(flag.default)
        groups[flag.group].add_argument(
            f"--{flag.name}", metavar=metavar, help=f"{flag.help} (default: {default})".replace("%", "%%")
        )
    parser.add_argument_group("Help").add_argument("--help", action="store_true",
                                                   help="Show this message and exit.")
    return parser.format_help()


def _metavar(flag: Flag) -> str:
    if flag.is_bool:
        return "[BOOL]"
    if flag.parse is parse_channel_arguments:
        return "KEY=VALUE,..."
    if flag.parse is _parse_tags:
        return "TAG,..."
    if flag.name.endswith(("_file", "_path", "_name", "_address")):
        return flag.name.rsplit("_", 1)[-1].upper()
    if flag.name.endswith("port"):
        return "PORT"
    return {_parse_int: "N", _parse_float: "NUMBER"}.get(flag.parse, "VALUE")


def _default_text(default: Any) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if default == "":
        return "''"
    return str(default)


def _usage_hint(flag: Flag) -> str:
    if flag.is_bool:
        return f"Example: --{flag.name}=true"
    example = flag.default_text if flag.default_text and " " not in flag.default_text else flag.default
    if flag.parse is parse_channel_arguments:
        example = "grpc.max_receive_message_length=1048576"
    if example in ("", None):
        example = "VALUE"
    return f"Example: --{flag.name}={example}"


def _explain_argparse_error(message: str) -> str:
    # argparse says "argument --port: expected one argument" for a trailing value-less flag.
    if message.startswith("argument --") and "expected one argument" in message:
        name = message.split()[1].rstrip(":")
        return f"{name} needs a value: {name}=VALUE or {name} VALUE (see {PROG} --help)"
    return f"{message} (see {PROG} --help)"


def _explain_unknown(argument: str) -> str:
    if not argument.startswith("-"):
        return (f"unexpected argument {argument!r}: flags look like --name=value "
                f"(see {PROG} --help)")
    name = argument.lstrip("-").split("=", 1)[0]
    if not argument.startswith("--") and name in _BY_NAME:
        return f"{argument!r}: flags start with two dashes, as in --{name} (see {PROG} --help)"
    close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
    suggestion = f"; did you mean --{close[0]}?" if close else f"; run {PROG} --help for the list"
    return f"unknown flag --{name}{suggestion}"
