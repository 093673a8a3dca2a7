"""ModelManager: which model versions are loaded, and handles to them for requests.

This is TF Serving's Source -> Loader -> Manager pipeline in one place: a poll of each model's
base path proposes the versions its policy wants, loads run in background threads (the load
function given to the manager, then AVAILABLE), and versions that left the policy are unloaded
only once something else serves and their in-flight requests have let go of them. A request
holds a handle for its duration; a lock guards the tables but is never held while a model loads
or runs. Every state change is published to listeners, as TF Serving's ServableStateMonitor does.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from typing import Callable, Sequence

import grpc

from serving import errors
from serving.core import loader
from serving.core.config import ModelConfig, check_model_configs
from serving.core.events import MODEL_ADDED, MODEL_REMOVED, StateEvent, StateListeners
from serving.core.model_versions import (AVAILABLE, END, LOADING, UNLOADING, ModelRecord,
                                         VersionRecord, VersionStatus)
from serving.core.servable import Servable
from serving.core.version_dirs import BARE_VERSION, find_version_dirs, version_dir_fingerprint

__all__ = ["ModelManager", "VersionStatus"]

logger = logging.getLogger("serving.core")


class ServableHandle:
    """What `ModelManager.servable` returns: holds one version from `with` to the block's end.

    A plain class rather than a generator-based context manager: it is on every request's path,
    and costs a third as much.
    """

    __slots__ = ("_manager", "_request", "_record")

    def __init__(self, manager: "ModelManager", name: str, version: int | None,
                 label: str | None):
        self._manager = manager
        self._request = (name, version, label)
        self._record: VersionRecord | None = None

    def __enter__(self) -> Servable:
        self._record = self._manager._acquire(*self._request)
        return self._record.servable

    def __exit__(self, *exc_info) -> None:
        self._manager._release(self._record)


class ModelManager:
    """Loads, serves and unloads the versions of `models` (a sequence of ModelConfig).

    `load(name, version, path)` turns a version directory into a ready Servable (the server
    composes it from a backend, warmup and batching; tests pass fakes). The other arguments
    mirror tensorflow_model_server's flags. `file_system_poll_wait_seconds` of 0 polls once at
    start and at each reload_config, as TF Serving does. Loads that fail are retried
    `max_num_load_retries` times, `load_retry_interval_seconds` apart; after that a version is
    tried again only when its files change. `num_load_threads` bounds concurrent loads.
    """

    def __init__(self, models: Sequence[ModelConfig], load: loader.LoadFunction, *,
                 file_system_poll_wait_seconds: float = 1.0,
                 max_num_load_retries: int = 5,
                 load_retry_interval_seconds: float = 60.0,
                 allow_version_labels_for_unavailable_models: bool = False,
                 num_load_threads: int = 4):
        for name, value, minimum in (
                ("file_system_poll_wait_seconds", file_system_poll_wait_seconds, 0),
                ("max_num_load_retries", max_num_load_retries, 0),
                ("load_retry_interval_seconds", load_retry_interval_seconds, 0),
                ("num_load_threads", num_load_threads, 1)):
            if value < minimum:
                raise ValueError(f"{name} must be >= {minimum}. Received: {name}={value}")
        if not callable(load):
            raise TypeError(f"load must be callable. Received: load={load!r}")
        self._initial_models = check_model_configs(models)
        self._poll_wait_seconds = file_system_poll_wait_seconds
        self._load_function = load
        self._retries = loader.RetryPolicy(max_retries=max_num_load_retries,
                                           retry_interval_seconds=load_retry_interval_seconds)
        self._allow_unavailable_labels = allow_version_labels_for_unavailable_models

        self._lock = threading.Lock()  # guards _models and every record in it
        self._poll_lock = threading.Lock()  # one poll at a time, so stale listings never win
        self._models: dict[str, ModelRecord] = {}
        self._stopping = threading.Event()
        self._loader = concurrent.futures.ThreadPoolExecutor(num_load_threads,
                                                             thread_name_prefix="model-load")
        self._poll_thread: threading.Thread | None = None
        self._listeners = StateListeners()
        self._events: list[StateEvent] = []  # collected under _lock, published outside it
        self._delivering = False  # a thread is handing _events to the listeners

    # === Lifecycle ===

    def start(self) -> None:
        """Loads the initial versions; returns once each has finished loading or failed.

        Raises:
            errors.FailedPrecondition: a version label points to a version that did not load.
        """
        if self._poll_thread is not None or self._stopping.is_set():
            raise RuntimeError("ModelManager.start() can be called once, before stop()")
        self._apply_config(self._initial_models)
        if self._poll_wait_seconds > 0:
            self._poll_thread = threading.Thread(target=self._poll_forever, name="model-poller",
                                                 daemon=True)
            self._poll_thread.start()

    def stop(self) -> None:
        """Stops polling and loading, and unloads every version (held ones when released)."""
        self._stopping.set()
        if self._poll_thread is not None:
            self._poll_thread.join()
        with self._lock:
            for record in self._all_versions():
                record.cancelled.set()
        self._loader.shutdown(wait=True)
        with self._lock:
            idle = []
            for model in self._models.values():
                model.wanted = {}  # nothing wanted: every version goes
                idle += self._begin_unloads(model)
        self._release_servables(idle)
        self._publish_events()

    def reload_config(self, models: Sequence[ModelConfig]) -> None:
        """Replaces the model list (TF Serving's HandleReloadConfigRequest semantics).

        Models not in `models` are unloaded; new ones are loaded; changed policies and labels
        apply. Returns once the versions this starts loading have loaded or failed.

        Raises:
            errors.FailedPrecondition: a label points to a version that is not available (models
                are updated, labels keep their previous values).
            errors.Unavailable: the manager is stopping.
        """
        if self._stopping.is_set():
            raise errors.Unavailable("The model manager is shutting down")
        models = check_model_configs(models)
        self._apply_config(models)
        logger.info("event=config_applied models=%s", ",".join(model.name for model in models))

    def add_listener(self, listener: Callable[[StateEvent], None]) -> None:
        """Calls `listener(event)` after every state change, outside the manager's lock (so it
        may call back into the manager), one event at a time and in the order they happened.
        A listener that raises is logged and kept."""
        self._listeners.add(listener)

    # === Requests ===

    def servable(self, name: str, version: int | None = None, label: str | None = None
                 ) -> "ServableHandle":
        """A handle on one loaded version for the duration of one request:
        `with manager.servable("mnist") as servable: ...`.

        No version and no label means the highest AVAILABLE version. The version cannot be
        unloaded while the handle is held.

        Raises (on entering the `with` block):
            errors.NotFound: "Servable not found for request: Latest(name)" or "Specific(name, 3)".
            errors.InvalidArgument: both a version and a label, or an unknown label.
        """
        return ServableHandle(self, name, version, label)

    def status(self, name: str, version: int | None = None) -> list[VersionStatus]:
        """Every version of a model the manager knows, in version order (GetModelStatus).

        Raises:
            errors.NotFound: unknown model or version; for a model whose base path is missing
                or holds no version directory, the message says so and names the path.
        """
        with self._lock:
            model = self._models.get(name)
            statuses = {number: record.status() for number, record in model.versions.items()
                        } if model is not None else {}
            source_error = model.source_error if model is not None else ""
        if version is not None:
            if version not in statuses:
                raise errors.NotFound(f"Could not find version {version} of model {name}")
            return [statuses[version]]
        if not statuses:
            detail = f": {source_error}" if source_error else ""
            raise errors.NotFound(f"Could not find any versions of model {name}{detail}")
        return [statuses[number] for number in sorted(statuses)]

    def model_names(self) -> list[str]:
        """The names of the configured models, sorted."""
        with self._lock:
            return sorted(name for name, model in self._models.items() if model.configured)

    def is_ready(self, name: str | None = None) -> bool:
        """Whether the model (or, with no name, every configured model) has an AVAILABLE version."""
        with self._lock:
            if name is not None:
                model = self._models.get(name)
                return model is not None and model.configured and model.has_available()
            return all(model.has_available() for model in self._models.values() if model.configured)

    def available_versions(self, name: str) -> list[int]:
        """The AVAILABLE versions of a model, in version order (empty for an unknown model or
        one with no version loaded yet)."""
        with self._lock:
            model = self._models.get(name)
            return sorted(number for number, record in model.versions.items()
                          if record.state == AVAILABLE) if model is not None else []

    def labels(self, name: str) -> dict[str, int]:
        """The version labels in force for a model (empty for an unknown model)."""
        with self._lock:
            model = self._models.get(name)
            return dict(model.labels) if model is not None else {}

    def _acquire(self, name: str, version: int | None, label: str | None) -> VersionRecord:
        if version is not None and label is not None:
            raise errors.InvalidArgument(
                "Specify a version or a version label, not both. "
                f"Received: version={version}, version_label={label!r}")
        with self._lock:
            model = self._models.get(name)
            if model is not None and not model.configured:
                model = None  # removed by a reload: only its status history remains
            if label is not None:
                if model is None or label not in model.labels:
                    known = sorted(model.labels) if model is not None else []
                    raise errors.InvalidArgument(
                        f"Unrecognized servable version label: {label} "
                        f"(model {name!r} has labels: {known})")
                version = model.labels[label]
            if version is None:
                record = model.latest_available() if model is not None else None
                if record is None:
                    raise errors.NotFound(f"Servable not found for request: Latest({name})")
            else:
                record = model.versions.get(version) if model is not None else None
                if record is None or record.state != AVAILABLE:
                    raise errors.NotFound(
                        f"Servable not found for request: Specific({name}, {version})")
            record.handles += 1
            return record

    # === Config and polling ===

    def _apply_config(self, models: tuple[ModelConfig, ...]) -> None:
        """Installs a model list, polls every model, waits for the loads, sets labels."""
        wanted_labels: dict[str, dict[str, int]] = {}
        idle = []
        with self._poll_lock:
            with self._lock:
                configured = set()
                for model_config in models:
                    model = self._models.setdefault(model_config.name,
                                                    ModelRecord(model_config.name))
                    if not model.configured:
                        self._events.append(StateEvent(model.name, None, MODEL_ADDED))
                    model.base_path = model_config.base_path
                    model.policy = model_config.policy
                    model.configured = True
                    configured.add(model.name)
                    wanted_labels[model.name] = dict(model_config.labels)
                removed = [model for name, model in self._models.items()
                           if model.configured and name not in configured]
                for model in removed:
                    self._events.append(StateEvent(model.name, None, MODEL_REMOVED))
                    model.configured = False
                    model.labels = {}
                    model.wanted = {}
                    idle += self._begin_unloads(model)
                    logger.info("event=model_removed model=%s", model.name)
                models = [self._models[name] for name in sorted(configured)]
            self._release_servables(idle)
            for model in models:
                self._poll_model(model)
            with self._lock:
                # Also waits for loads an earlier poll started, so labels see their outcome.
                loading = [record for model in models for record in model.versions.values()
                           if record.state == LOADING]
        self._publish_events()
        for record in loading:
            record.settled.wait()
        self._set_labels(wanted_labels)

    def _poll_forever(self) -> None:
        while not self._stopping.wait(self._poll_wait_seconds):
            with self._poll_lock:
                with self._lock:
                    models = [model for model in self._models.values() if model.configured]
                for model in models:
                    try:
                        self._poll_model(model)
                    except Exception:  # one bad poll must not end polling for every model
                        logger.exception("event=poll_error model=%s", model.name)

    def _poll_model(self, model: ModelRecord) -> None:
        """Lists the base path, updates the wanted versions and starts loads and unloads.

        Called with _poll_lock held.
        """
        with self._lock:
            base_path, policy = model.base_path, model.policy
        try:
            on_disk = find_version_dirs(base_path)
        except OSError as error:
            self._set_source_error(model, f"Could not find base path {base_path} for servable "
                                          f"{model.name} with error {error.strerror or error}")
            return  # keep serving what is loaded, as TF Serving does when a poll fails
        if not on_disk:
            self._set_source_error(model, f"No versions of servable {model.name} found under base "
                                          f"path {base_path}. Did you forget to name your leaf "
                                          "directory as a number (eg. '/1/')?")
        wanted = {version: on_disk[version] for version in policy.select(on_disk)}
        with self._lock:
            if not model.configured:
                return
            if on_disk:
                model.source_error = ""
            newly_bare = on_disk == {BARE_VERSION: base_path} and model.wanted != wanted
            model.wanted = wanted
            retry_candidates = model.failed_wanted_versions()
        if newly_bare:
            logger.info("event=bare_saved_model model=%s base_path=%s message=%r", model.name, base_path,
                        f"no version directory: the SavedModel at the base path is served as version "
                        f"{BARE_VERSION} (KServe's layout when storageUri names a version folder)")
        fingerprints = {version: version_dir_fingerprint(path)
                        for version, path in retry_candidates.items()}
        with self._lock:
            if not model.configured:
                return
            to_load = model.plan_loads(fingerprints)
            self._events += [StateEvent(model.name, record.version, LOADING) for record in to_load]
            idle = self._begin_unloads(model)
        self._release_servables(idle)
        self._publish_events()
        for record in to_load:
            self._loader.submit(self._load, model, record)

    def _set_source_error(self, model: ModelRecord, message: str) -> None:
        with self._lock:
            changed = model.source_error != message
            model.source_error = message
        if changed:
            logger.warning("event=base_path_problem model=%s message=%r", model.name, message)

    def _set_labels(self, wanted_labels: dict[str, dict[str, int]]) -> None:
        """Applies every model's labels at once, or none if one points to an unavailable version."""
        with self._lock:
            for name, labels in wanted_labels.items():
                model = self._models[name]
                for label, version in sorted(labels.items()):
                    record = model.versions.get(version)
                    available = record is not None and record.state == AVAILABLE
                    unchanged = model.labels.get(label, version) == version
                    if not available and not (self._allow_unavailable_labels and unchanged):
                        raise errors.FailedPrecondition(
                            f"Request to assign label to version {version} of model {name}, "
                            "which is not currently available for inference")
            for name, labels in wanted_labels.items():
                self._models[name].labels = labels

    # === Loading and unloading ===

    def _load(self, model: ModelRecord, record: VersionRecord) -> None:
        """Runs in a loader thread: load with retries, then publish AVAILABLE or END.

        While retries remain the version stays LOADING, as TF Serving reports it.
        """
        try:
            servable = loader.load_with_retries(self._load_function, model.name, record.version,
                                                record.path, self._retries, record.cancelled)
        except errors.ServingError as error:
            cancelled = error.code == grpc.StatusCode.CANCELLED
            # A cancelled load has no fingerprint, so it is tried again if wanted again.
            fingerprint = None if cancelled else version_dir_fingerprint(record.path)
            with self._lock:
                record.state = END
                record.error_code = error.code
                record.error_message = error.message
                record.failed_fingerprint = fingerprint
                record.settled.set()
                self._events.append(StateEvent(model.name, record.version, END))
            self._publish_events()
            return
        self._publish(model, record, servable)

    def _publish(self, model: ModelRecord, record: VersionRecord, servable: Servable) -> None:
        """Makes a loaded version AVAILABLE, then lets go of the versions it replaces."""
        with self._lock:
            record.servable = servable
            record.state = AVAILABLE
            record.settled.set()
            self._events.append(StateEvent(model.name, record.version, AVAILABLE))
            idle = self._begin_unloads(model)
        self._release_servables(idle)
        self._publish_events()

    def _begin_unloads(self, model: ModelRecord) -> list[Servable]:
        """With the lock held: starts the unloads the policy allows; returns the idle servables.

        A version with requests in flight stays UNLOADING until the last handle is released.
        """
        idle = []
        for record in model.plan_unloads():
            self._events.append(StateEvent(model.name, record.version, UNLOADING))
            if record.handles:
                logger.info("event=version_unload_deferred model=%s version=%d in_flight=%d",
                            model.name, record.version, record.handles)
                continue
            idle.append(self._end(record))
        return idle

    def _release(self, record: VersionRecord) -> None:
        with self._lock:
            record.handles -= 1
            idle = [self._end(record)] if record.state == UNLOADING and record.handles == 0 else []
        self._release_servables(idle)
        if idle:
            self._publish_events()

    def _end(self, record: VersionRecord) -> Servable:
        """With the lock held: marks an UNLOADING version END and hands back its servable."""
        servable, record.servable = record.servable, None
        record.state = END
        self._events.append(StateEvent(record.model_name, record.version, END))
        return servable

    def _publish_events(self) -> None:
        """Outside the lock: hands the events collected so far to the listeners, in order.

        One thread delivers at a time. A thread that finds another delivering leaves its events
        to that one, which delivers until none are left: otherwise, while a slow listener held
        one thread, another could deliver a later event first (a version's END before its
        UNLOADING).
        """
        with self._lock:
            if self._delivering:
                return
            self._delivering = True
        try:
            while True:
                with self._lock:
                    events, self._events = self._events, []
                    if not events:
                        self._delivering = False
                        return
                self._listeners.publish(events)
        except BaseException:  # listeners' Exceptions are caught in publish; this is ^C and such
            with self._lock:
                self._delivering = False
            raise

    @staticmethod
    def _release_servables(servables: list[Servable]) -> None:
        """Outside the lock: frees unloaded servables (TensorFlow releases their memory)."""
        for servable in servables:
            servable.unload()
            logger.info("event=version_unloaded model=%s version=%d", servable.name,
                        servable.version)

    def _all_versions(self) -> list[VersionRecord]:
        return [record for model in self._models.values() for record in model.versions.values()]
