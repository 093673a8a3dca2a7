"""ServerOptions: everything a ModelServer is told, typed, with TF Serving's defaults, checked once.

`serving.flags` turns a tensorflow_model_server command line into these; tests and embedders
build them directly (`ServerOptions(model_base_path="/models/m", port=0)`), and get the same
checks and the same one-line messages. Nothing here reads a file: the files the options name
(model config, batching parameters, TLS, token, monitoring) are read once, by the server.

Defaults are TF Serving's (model_servers/server.h) unless the field's comment says "(tfzoo)".
"""

from __future__ import annotations

import dataclasses
import os

INT32_MAX = 2**31 - 1
# The load concurrency when --num_load_threads is not given (TF Serving's default, 0, loads one
# version at a time; several models start faster in parallel).
DEFAULT_LOAD_THREADS = 4


class OptionsError(ValueError):
    """Options that cannot be served: the message names the flag and says how to fix it."""


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """The server's settings, one field per tensorflow_model_server flag (same names)."""

    # --- server: where and how it listens ---
    port: int = 8500  # gRPC TCP port; 0 turns TCP off
    grpc_bind_address: str = "0.0.0.0"  # (tfzoo) TF Serving always binds every interface
    grpc_socket_path: str = ""
    grpc_channel_arguments: tuple[tuple[str, int | str], ...] = ()
    grpc_max_threads: int = 0  # 0: 4 per CPU
    enable_grpc_healthcheck_service: bool = False
    rest_api_port: int = 0  # 0: no REST port
    rest_api_num_threads: int = 0  # 0: 4 per CPU
    rest_api_timeout_in_ms: int = 30000
    rest_api_enable_cors_support: bool = False
    rest_api_max_request_bytes: int = 64 * 1024 * 1024  # (tfzoo)
    rest_api_docs: bool = False  # (tfzoo) Swagger UI at /docs
    shutdown_grace_seconds: float = 10.0  # (tfzoo)
    # --- models ---
    model_name: str = "default"
    model_base_path: str = ""
    model_config_file: str = ""
    model_config_file_poll_wait_seconds: float = 0.0
    file_system_poll_wait_seconds: float = 1.0
    allow_version_labels_for_unavailable_models: bool = False
    max_num_load_retries: int = 5
    load_retry_interval_micros: int = 60_000_000
    enable_model_warmup: bool = True
    num_request_iterations_for_warmup: int = 0
    saved_model_tags: tuple[str, ...] = ("serve",)
    enable_signature_method_name_check: bool = False
    num_load_threads: int = 0
    num_unload_threads: int = 0
    flush_filesystem_caches: bool = True
    # --- batching ---
    enable_batching: bool = False
    batching_parameters_file: str = ""
    enable_per_model_batching_parameters: bool = False
    # --- TensorFlow runtime ---
    tensorflow_session_parallelism: int = 0
    tensorflow_intra_op_parallelism: int = 0
    tensorflow_inter_op_parallelism: int = 0
    enable_serialization_as_tensor_content: bool = False
    tensorflow_session_config_file: str = ""
    platform_config_file: str = ""
    per_process_gpu_memory_fraction: float = 0.0
    mixed_precision: str = ""
    xla_cpu_compilation_enabled: bool = False
    xla_gpu_compilation_enabled: bool = False
    thread_pool_factory_config_file: str = ""
    remove_unused_fields_from_bundle_metagraph: bool = True
    prefer_tflite_model: bool = False
    num_tflite_pools: int = 0  # 0: one per usable CPU
    num_tflite_interpreters_per_pool: int = 1
    skip_initialize_tpu: bool = False
    # --- monitoring, security, other ---
    monitoring_config_file: str = ""
    ssl_config_file: str = ""
    auth_token_file: str = ""  # (tfzoo)
    use_alts_credentials: bool = False
    enable_profiler: bool = True
    version: bool = False
    verbose: bool = False  # (tfzoo) TensorFlow's own C++ logs reach stderr
    # The flags that were given explicitly (some defaults depend on whether a flag was given).
    given: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.version:  # with --version nothing else is checked, as in TF Serving
            self._check_values()
            self._check_combinations()

    # === Derived settings: each default that depends on the machine or on other fields ===

    @property
    def grpc_threads(self) -> int:
        """Threads for gRPC calls: --grpc_max_threads, or TF Serving's 4 per CPU."""
        return self.grpc_max_threads or 4 * (os.cpu_count() or 1)

    @property
    def rest_threads(self) -> int:
        """Model calls the REST port runs at once: --rest_api_num_threads, or 4 per CPU."""
        return self.rest_api_num_threads or 4 * (os.cpu_count() or 1)

    @property
    def rest_timeout_seconds(self) -> float | None:
        """--rest_api_timeout_in_ms in seconds; None (no limit) for 0 or less."""
        return self.rest_api_timeout_in_ms / 1000 if self.rest_api_timeout_in_ms > 0 else None

    @property
    def load_threads(self) -> int:
        """Versions loaded at once: --num_load_threads when given (0 meaning 1), else 4."""
        if "num_load_threads" in self.given:
            return max(1, self.num_load_threads)
        return DEFAULT_LOAD_THREADS

    @property
    def load_retry_interval_seconds(self) -> float:
        """Negative --load_retry_interval_micros means "retry without waiting" in TF Serving."""
        return max(0, self.load_retry_interval_micros) / 1e6

    @property
    def warmup_iterations(self) -> int | None:
        """Replays per warmup record: None with warmup off; the flag is "used only if > 0"."""
        if not self.enable_model_warmup:
            return None
        return max(1, self.num_request_iterations_for_warmup)

    # === Checks ===

    def _check_values(self) -> None:
        for name in ("port", "rest_api_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise OptionsError(f"invalid value for --{name}: {port} is not a port; use 0-65535")
        non_negative = (
            "grpc_max_threads", "max_num_load_retries", "num_request_iterations_for_warmup",
            "tensorflow_session_parallelism", "tensorflow_intra_op_parallelism",
            "tensorflow_inter_op_parallelism", "rest_api_num_threads", "num_load_threads",
            "num_unload_threads", "shutdown_grace_seconds", "file_system_poll_wait_seconds",
            "model_config_file_poll_wait_seconds", "num_tflite_pools",
            "num_tflite_interpreters_per_pool",
        )
        for name in non_negative:
            if getattr(self, name) < 0:
                raise OptionsError(
                    f"invalid value for --{name}: {getattr(self, name)} is negative; use 0 or more")
        if self.rest_api_max_request_bytes < 1:
            raise OptionsError(
                "invalid value for --rest_api_max_request_bytes: "
                f"{self.rest_api_max_request_bytes} is not positive; use a byte count such as "
                "67108864")
        if not 0.0 <= self.per_process_gpu_memory_fraction <= 1.0:
            raise OptionsError(
                "invalid value for --per_process_gpu_memory_fraction: "
                f"{self.per_process_gpu_memory_fraction} is outside 0.0-1.0")

    def _check_combinations(self) -> None:
        given = self.given
        if self.model_config_file:
            clashing = [f"--{name}" for name in ("model_name", "model_base_path") if name in given]
            if clashing:
                raise OptionsError(
                    f"--model_config_file cannot be combined with {' and '.join(clashing)}: list "
                    "every model in the config file, or drop --model_config_file to serve one "
                    "model")
        elif not self.model_base_path:
            if "model_name" in given:
                raise OptionsError(
                    f"--model_name={self.model_name} needs --model_base_path=DIR, the directory "
                    "holding the model's version directories")
            raise OptionsError(
                "no model to serve: give --model_base_path=DIR (with optional --model_name=NAME) "
                "or --model_config_file=FILE")
        if self.port == 0 and not self.grpc_socket_path:
            raise OptionsError(
                "--port=0 turns the TCP port off, so give --grpc_socket_path=PATH or a port")
        if self.rest_api_port and self.rest_api_port == self.port:
            raise OptionsError(
                f"--rest_api_port={self.rest_api_port} is also the gRPC --port; choose another "
                "port")
        if self.rest_api_docs and not self.rest_api_port:
            raise OptionsError("--rest_api_docs serves the docs page on the REST port: give "
                               "--rest_api_port too")
        if self.batching_parameters_file and not self.enable_batching:
            raise OptionsError("--batching_parameters_file needs --enable_batching")
        if self.ssl_config_file and self.use_alts_credentials:
            raise OptionsError(
                "--ssl_config_file and --use_alts_credentials exclude each other; pick one")
        parallelism = ("tensorflow_session_parallelism", "tensorflow_intra_op_parallelism",
                       "tensorflow_inter_op_parallelism")
        if all(getattr(self, name) > 0 for name in parallelism):
            raise OptionsError(
                "set either --tensorflow_session_parallelism or --tensorflow_intra_op_parallelism "
                "with --tensorflow_inter_op_parallelism, not all three")
