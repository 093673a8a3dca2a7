"""ModelServer: the one place where the server is put together from its ServerOptions.

Everything else is built here and nowhere else: the security settings (TLS, token), the version
loader (backend, warmup, batching) behind the model manager, the guard, and the two transports
(gRPC, REST) over the same APIs. `start()` checks that the ports are free (so a taken port fails
at once), loads the models, and only then listens, as TF Serving does: a client that connects
during the load is refused and retries rather than waiting on a port that does not answer.
`stop(grace)` stops accepting calls, lets in-flight ones finish for up to `grace` seconds, and
unloads the models.
"""

from __future__ import annotations

import logging
import threading

from serving.errors import ServerStartError
from serving.options import OptionsError, ServerOptions

__all__ = ["ModelServer", "ServerStartError"]

logger = logging.getLogger("serving.server")


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
        self.security = None
        self.grpc = None
        self.rest = None
        self.request_logger = None
        self.port = 0
        self.addresses: list[str] = []
        self._config_watcher = None
        self._stop_lock = threading.Lock()
        self._started = False
        self._stopped = False

    def start(self) -> int:
        """Loads the models and starts serving; returns the TCP port (0 with TCP turned off).

        Returns once every configured model has finished its first load attempt.

        Raises:
            ServerStartError: a port cannot be bound or TensorFlow cannot be configured.
            errors.ServingError: a config file is missing or invalid, or a version label points
                to a version that did not load.
        """
        if self._started:
            raise RuntimeError("ModelServer.start() can be called once")
        self._started = True
        _configure_tensorflow_threads(self.options)
        self._build()
        try:
            self.grpc.check_port()
            if self.rest is not None:
                self.rest.check_port()
            self.manager.start()
            self.grpc.bind()
            self.port = self.grpc.port
            self.addresses = list(self.grpc.addresses)
            if self.rest is not None:
                self.rest.bind()
                self.addresses.append(self.rest.address)
            self.grpc.start()
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
            if self._stopped or self.grpc is None:
                return
            self._stopped = True
        grace = self.options.shutdown_grace_seconds if grace is None else grace
        logger.info("event=server_stopping grace_seconds=%s", grace)
        self._shut_down(grace)
        logger.info("event=server_stopped")

    def _build(self) -> None:
        from serving.apis.guard import Guard
        from serving.apis.tfs import model_config
        from serving.apis.tfs.request_logger import ServerRequestLogger
        from serving.apis.tfs.settings import TfsSettings
        from serving.core import ModelManager
        from serving.security import ServerSecurity
        from serving.transports.grpc.server import GrpcTransport

        options = self.options
        # TLS and token files first: with --ssl_config_file the server serves TLS or stops here.
        self.security = ServerSecurity.from_options(options)
        config = _model_server_config(options)
        # Request logging next: a log directory that cannot be written stops the start here.
        self.request_logger = ServerRequestLogger(options.saved_model_tags)
        self.request_logger.update(model_config.request_log_configs(config))
        settings = TfsSettings(tensor_content_outputs=options.enable_serialization_as_tensor_content,
                               check_method_name=options.enable_signature_method_name_check,
                               request_logger=self.request_logger)
        self.manager = ModelManager(model_config.model_configs(config),
                                    **_manager_arguments(options, self._batching, settings))
        guard = Guard(self.security.token)
        self.rest = _rest_server(options, self.manager, guard, settings, self.security,
                                 threads=_rest_threads(options, self._batching))
        self.grpc = GrpcTransport(self.manager, guard, self.security, options, settings,
                                  threads=_grpc_threads(options, self._batching))

    def _shut_down(self, grace: float | None) -> None:
        if self._config_watcher is not None:
            self._config_watcher.stop()
        if self.grpc is not None:
            self.grpc.begin_stop()
        if self.rest is not None:
            self.rest.begin_stop()
        if self.grpc is not None:
            self.grpc.stop(grace)
        if self.rest is not None:
            self.rest.wait_stopped(grace)
        if self.request_logger is not None:
            self.request_logger.close()
        if self.manager is not None:
            self.manager.stop()

    def _start_config_watcher(self) -> None:
        options = self.options
        if options.model_config_file and options.model_config_file_poll_wait_seconds > 0:
            from serving.apis.tfs.config_watcher import ConfigFileWatcher

            self._config_watcher = ConfigFileWatcher(
                options.model_config_file, self.manager, options.model_config_file_poll_wait_seconds,
                self.request_logger)
            self._config_watcher.start()


def _model_server_config(options: ServerOptions):
    """The models to serve: --model_config_file's, or --model_name at --model_base_path."""
    from serving.apis.tfs import model_config

    if options.model_config_file:
        return model_config.load_model_config_file(options.model_config_file)
    return model_config.single_model_config(options.model_name, options.model_base_path)


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
    batching, the calls it takes to fill the batches (see _threads_with_batching)."""
    return options.grpc_max_threads or _threads_with_batching(options.grpc_threads, batching)


def _rest_threads(options: ServerOptions, batching) -> int:
    """Threads for REST model calls: --rest_api_num_threads, else TF Serving's 4 per CPU plus,
    with batching, the calls it takes to fill the batches (see _threads_with_batching)."""
    return options.rest_api_num_threads or _threads_with_batching(options.rest_threads, batching)


def _threads_with_batching(threads: int, batching) -> int:
    """`threads` plus, with batching, enough calls waiting on the batcher to fill every batch
    slot and the next batch: a call that waits in a thread (every REST call; over gRPC, all but
    Predict and ModelInfer, which wait on the event loop) holds it, so a transport with fewer
    threads caps every batch at its thread count (8 on 2 cores, with max_batch_size 32)."""
    if batching is None:
        return threads
    from serving.batching import threads_to_fill_batches

    return threads + threads_to_fill_batches(batching.options)


def _manager_arguments(options: ServerOptions, batching, settings) -> dict:
    from serving.backends.tflite import options_from_flags as tflite_options_from_flags
    from serving.version_loader import VersionLoader

    loader = VersionLoader(tags=options.saved_model_tags, warmup_iterations=options.warmup_iterations,
                           tfs_settings=settings, batching=batching,
                           tflite=tflite_options_from_flags(options))
    return dict(
        load=loader.load,
        file_system_poll_wait_seconds=options.file_system_poll_wait_seconds,
        max_num_load_retries=options.max_num_load_retries,
        load_retry_interval_seconds=options.load_retry_interval_seconds,
        allow_version_labels_for_unavailable_models=options.allow_version_labels_for_unavailable_models,
        num_load_threads=options.load_threads,
    )


def _rest_server(options: ServerOptions, manager, guard, settings, security, threads: int):
    """The REST server --rest_api_port asks for (None when it is 0), with the Prometheus page if
    --monitoring_config_file enables it.

    Raises:
        errors.InvalidArgument: the monitoring config file is unreadable or invalid (checked even
            without a REST port, so a broken file is never silently ignored).
    """
    metrics_path = None
    if options.monitoring_config_file:
        from serving.metrics.monitoring_config import load_monitoring_config, prometheus_path

        metrics_path = prometheus_path(load_monitoring_config(options.monitoring_config_file))
        if metrics_path and not options.rest_api_port:
            logger.warning("event=metrics_not_served reason=%r",
                           "Prometheus metrics are served on the REST port; give --rest_api_port")
    if not options.rest_api_port:
        return None
    from serving.metrics.page import metrics_page
    from serving.transports.rest.rest_server import RestServer

    return RestServer(manager, guard, options, settings, threads=threads,
                      metrics_path=metrics_path,
                      metrics_page=lambda: metrics_page(manager),
                      ssl_context=security.tls.ssl_context() if security.tls else None)


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
