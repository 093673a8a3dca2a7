"""ModelServer: the model manager plus TF Serving's gRPC services on one grpc.Server.

Built from the options `serving.flags.parse_flags` returns, so `zoo-serve` and tests run exactly
the same server. `start()` binds the ports first (so a taken port fails at once, not after the
models load), loads the models, then starts serving; `stop(grace)` stops accepting calls, lets
in-flight ones finish for up to `grace` seconds, and unloads the models.

Errors are mapped onto gRPC statuses in one place, `ErrorMappingInterceptor`: a
`serving.errors.ServingError` becomes its code and (safe) message, anything else INTERNAL with a
generic message and the traceback in the log.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading

import grpc
from google.protobuf import message as protobuf_message

from serving import errors
from serving.options import INT32_MAX, OptionsError, ServerOptions

logger = logging.getLogger("serving.server")

# TF Serving lifts gRPC's 4 MiB default to INT32_MAX both ways (server.cc).
DEFAULT_CHANNEL_ARGUMENTS = {
    "grpc.max_receive_message_length": INT32_MAX,
    "grpc.max_send_message_length": INT32_MAX,
    # Without this, a second server on the same port binds silently and steals half the calls.
    "grpc.so_reuseport": 0,
}
# Without --grpc_max_threads: calls in flight (running or waiting for a thread) before new ones
# are refused with RESOURCE_EXHAUSTED, so an overload sheds calls instead of growing memory.
DEFAULT_MAX_CONCURRENT_RPCS = 1024
INTERNAL_ERROR_MESSAGE = "Internal server error; the server log has the details."


class ServerStartError(Exception):
    """The server cannot start (port taken, TensorFlow already configured...); says how to fix it."""


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    """Turns exceptions raised by unary handlers into gRPC statuses, for every service.

    Request errors (ServingError) are logged at WARNING with their code; anything else is a bug:
    the client gets INTERNAL with a generic message, the log gets the traceback.
    """

    def __init__(self):
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            handler = continuation(handler_call_details)
            if handler is None or handler.unary_unary is None:
                return handler  # streaming calls (health Watch, reflection) handle their own errors
            wrapped = grpc.unary_unary_rpc_method_handler(
                _guarded(method, handler.unary_unary),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
            self._wrapped[method] = wrapped
        return wrapped


class _UndecodableRequest:
    """What a request body that is not a valid protobuf of its type deserializes to.

    gRPC would answer such a body with INTERNAL ("Exception deserializing request!"), but the
    fault is the client's. This stand-in reads as an empty request, so interceptors that look at
    fields before the handler (metrics) keep working, and `_guarded` answers INVALID_ARGUMENT.
    """

    def __init__(self, empty_request, error: Exception):
        self._empty_request = empty_request
        self.message = (f"The request is not a valid {empty_request.DESCRIPTOR.full_name} "
                        f"protocol buffer: {error}")

    def __getattr__(self, name: str):
        return getattr(self._empty_request, name)


def _tolerant(deserialize):
    if deserialize is None:
        return None

    def tolerant(data: bytes):
        try:
            return deserialize(data)
        except protobuf_message.DecodeError as error:
            return _UndecodableRequest(deserialize(b""), error)

    return tolerant


def _guarded(method: str, behavior):
    def guarded(request, context):
        try:
            if isinstance(request, _UndecodableRequest):
                raise errors.InvalidArgument(request.message)
            return behavior(request, context)
        except errors.ServingError as error:
            code, message = error.code, error.message
            logger.warning("event=request_failed method=%s code=%s error=%r", method, code.name, message)
        except Exception:
            code, message = grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE
            logger.exception("event=request_crashed method=%s", method)
        context.abort(code, message)

    return guarded


class ModelServer:
    """tfzoo's drop-in for tensorflow_model_server, usable in-process from tests.

    Example:
        server = ModelServer(ServerOptions(model_base_path="/models/mnist", port=8500))
        port = server.start()
        ...
        server.stop()

    Raises (from the constructor):
        OptionsError: --batching_parameters_file cannot be read or used.
    """

    def __init__(self, options: ServerOptions):
        self.options = options
        self._batching = _batching_policy(options)
        self.manager = None
        self.port = 0
        self.addresses: list[str] = []
        self._grpc_server: grpc.Server | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._health = None
        self._config_watcher = None
        self.security = None
        self.rest = None
        self._stop_lock = threading.Lock()
        self._stopped = False

    def start(self) -> int:
        """Loads the models and starts serving; returns the TCP port (0 with TCP turned off).

        Returns once every configured model has finished its first load attempt.

        Raises:
            ServerStartError: a port cannot be bound or TensorFlow cannot be configured.
            errors.ServingError: the model config is missing or invalid, or a version label
                points to a version that did not load.
        """
        if self._grpc_server is not None:
            raise RuntimeError("ModelServer.start() can be called once")
        _configure_tensorflow_threads(self.options)
        from serving.core.manager import ModelManager
        from serving.security import ServerSecurity

        # TLS and token files first: with --ssl_config_file the server serves TLS or stops here.
        self.security = ServerSecurity.from_options(self.options)

        batching = self._batching
        self.manager = ModelManager(_model_configs(self.options),
                                    **_manager_arguments(self.options, batching))
        from serving.rest.rest_server import rest_server_from_options

        self.rest = rest_server_from_options(self.options, self.manager, self.security)
        self._grpc_server = self._build_grpc_server(batching)
        try:
            self._bind_ports()
            self.manager.start()
            self._health.start()
            self._grpc_server.start()
            if self.rest is not None:
                self.rest.start()
            self._start_config_watcher()
        except BaseException:
            self._stopped = True
            self._shut_down(grace=None)
            raise
        logger.info("event=server_started addresses=%s models=%s", ",".join(self.addresses),
                    ",".join(self.manager.model_names()))
        return self.port

    def stop(self, grace: float | None = None) -> None:
        """Graceful stop: health turns NOT_SERVING, new calls are refused, in-flight calls get
        `grace` seconds (default --shutdown_grace_seconds) to finish, then models are unloaded.
        """
        with self._stop_lock:
            if self._stopped or self._grpc_server is None:
                return
            self._stopped = True
        grace = self.options.shutdown_grace_seconds if grace is None else grace
        logger.info("event=server_stopping grace_seconds=%s", grace)
        self._shut_down(grace)
        logger.info("event=server_stopped")

    def _shut_down(self, grace: float | None) -> None:
        if self._config_watcher is not None:
            self._config_watcher.stop()
        self._health.shutdown()
        if self.rest is not None:
            self.rest.begin_stop()
        self._grpc_server.stop(grace).wait()
        if self.rest is not None:
            self.rest.wait_stopped(grace)
        self._executor.shutdown(wait=False)
        self.manager.stop()

    def _build_grpc_server(self, batching) -> grpc.Server:
        from tensorflow_serving.apis import model_service_pb2, model_service_pb2_grpc
        from tensorflow_serving.apis import prediction_service_pb2, prediction_service_pb2_grpc

        from serving import health
        from serving.metrics.grpc_interceptor import MetricsInterceptor
        from serving.oip.servicer import SERVICE_NAME as OIP_SERVICE_NAME
        from serving.oip.servicer import add_oip_service
        from serving.tfs.model_service import ModelServicer
        from serving.tfs.prediction_service import PredictionServicer

        self._executor = concurrent.futures.ThreadPoolExecutor(_grpc_threads(self.options, batching),
                                                               thread_name_prefix="grpc-call")
        server = grpc.server(
            self._executor,
            interceptors=[MetricsInterceptor(), *self.security.grpc_interceptors(),
                          ErrorMappingInterceptor()],
            options=channel_arguments(self.options.grpc_channel_arguments),
            # Past this many calls in flight grpc answers RESOURCE_EXHAUSTED instead of queueing.
            maximum_concurrent_rpcs=self.options.grpc_max_threads or DEFAULT_MAX_CONCURRENT_RPCS,
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            PredictionServicer(
                self.manager,
                tensor_content_outputs=self.options.enable_serialization_as_tensor_content,
                check_method_name=self.options.enable_signature_method_name_check,
            ),
            server,
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(self.manager), server)
        add_oip_service(server, self.manager)
        self._health = health.ModelHealth(self.manager)
        self._health.add_to_server(server)
        health.enable_reflection(server, (
            prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name,
            model_service_pb2.DESCRIPTOR.services_by_name["ModelService"].full_name,
            health.HEALTH_SERVICE_NAME,
            OIP_SERVICE_NAME,
        ))
        return server

    def _bind_ports(self) -> None:
        options = self.options
        if options.port:
            address = f"{_host(options.grpc_bind_address)}:{options.port}"
            self.port = self._add_port(address, "--port/--grpc_bind_address")
            self.addresses.append(f"{_host(options.grpc_bind_address)}:{self.port}")
        if options.grpc_socket_path:
            address = f"unix:{os.path.abspath(options.grpc_socket_path)}"
            self._add_port(address, "--grpc_socket_path")
            self.addresses.append(address)
        if self.rest is not None:
            self.rest.bind()
            self.addresses.append(self.rest.address)

    def _add_port(self, address: str, flag_names: str) -> int:
        try:
            port = self.security.add_grpc_port(self._grpc_server, address)
        except RuntimeError as error:
            raise ServerStartError(
                f"cannot listen on {address} ({error}); the port may be in use or the address not "
                f"local: change {flag_names}"
            ) from None
        if port == 0 and not address.startswith("unix:"):
            raise ServerStartError(f"cannot listen on {address}; change {flag_names}")
        return port

    def _start_config_watcher(self) -> None:
        options = self.options
        if options.model_config_file and options.model_config_file_poll_wait_seconds > 0:
            from serving.apis.tfs.config_watcher import ConfigFileWatcher

            self._config_watcher = ConfigFileWatcher(
                options.model_config_file, self.manager, options.model_config_file_poll_wait_seconds
            )
            self._config_watcher.start()


def channel_arguments(user_arguments) -> list[tuple[str, int | str]]:
    """TF Serving's defaults (INT32_MAX message sizes) overridden by --grpc_channel_arguments."""
    merged = dict(DEFAULT_CHANNEL_ARGUMENTS)
    merged.update(user_arguments)
    return list(merged.items())


def _model_configs(options: ServerOptions):
    """The models to serve: --model_config_file's, or --model_name at --model_base_path."""
    from serving.apis.tfs import model_config

    if options.model_config_file:
        config = model_config.load_model_config_file(options.model_config_file)
    else:
        config = model_config.single_model_config(options.model_name, options.model_base_path)
    return model_config.model_configs(config)


def _batching_policy(options: ServerOptions):
    """--enable_batching's BatchingPolicy for every version the manager loads (None without it)."""
    from serving.batching import BatchingParametersError, BatchingPolicy

    try:
        return BatchingPolicy.from_flags(options.enable_batching, options.batching_parameters_file,
                                         options.enable_per_model_batching_parameters)
    except BatchingParametersError as error:
        raise OptionsError(f"invalid --batching_parameters_file: {error}") from None


def _grpc_threads(options: ServerOptions, batching) -> int:
    """Threads for gRPC calls: --grpc_max_threads, else TF Serving's 4 per CPU plus, with
    batching, enough calls waiting on the batcher to fill every batch slot and the next batch."""
    if options.grpc_max_threads:
        return options.grpc_max_threads
    threads = options.grpc_threads
    if batching is not None:
        from serving.batching import threads_to_fill_batches

        threads += threads_to_fill_batches(batching.options)
    return threads


def _manager_arguments(options: ServerOptions, batching) -> dict:
    from serving.backends.tflite import options_from_flags as tflite_options_from_flags
    from serving.version_loader import VersionLoader

    loader = VersionLoader(tags=options.saved_model_tags, warmup_iterations=options.warmup_iterations,
                           batching=batching, tflite=tflite_options_from_flags(options))
    return dict(
        load=loader.load,
        file_system_poll_wait_seconds=options.file_system_poll_wait_seconds,
        max_num_load_retries=options.max_num_load_retries,
        load_retry_interval_seconds=options.load_retry_interval_seconds,
        allow_version_labels_for_unavailable_models=options.allow_version_labels_for_unavailable_models,
        num_load_threads=options.load_threads,
    )


def _configure_tensorflow_threads(options: ServerOptions) -> None:
    """Applies the TF thread-pool flags; TensorFlow accepts them only before it first runs."""
    intra = options.tensorflow_intra_op_parallelism or options.tensorflow_session_parallelism
    inter = options.tensorflow_inter_op_parallelism or options.tensorflow_session_parallelism
    if not intra and not inter:
        return
    import tensorflow as tf

    threading_config = tf.config.threading
    settings = (
        ("tensorflow_intra_op_parallelism", intra, threading_config.get_intra_op_parallelism_threads,
         threading_config.set_intra_op_parallelism_threads),
        ("tensorflow_inter_op_parallelism", inter, threading_config.get_inter_op_parallelism_threads,
         threading_config.set_inter_op_parallelism_threads),
    )
    for flag_name, wanted, get, set_threads in settings:
        if not wanted or get() == wanted:
            continue
        try:
            set_threads(wanted)
        except RuntimeError:
            raise ServerStartError(
                f"--{flag_name}={wanted} cannot be applied: TensorFlow already runs in this process "
                f"with {get()} threads; start the server in a fresh process"
            ) from None
    logger.info("event=tensorflow_threads intra_op=%s inter_op=%s", intra or "auto", inter or "auto")


def _host(address: str) -> str:
    """IPv6 literals need brackets in a gRPC target ("[::]:8500")."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address
