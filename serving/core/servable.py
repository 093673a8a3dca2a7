"""One loaded version of one model: its SignatureDefs and a checked way to run them.

A Servable is protocol-agnostic and runtime-agnostic: the front ends turn their requests into
`run(signature_name, {alias: ndarray})`, and the model runtime behind it is a `Backend` (a
SavedModel, a TF Lite model, or a fake in tests). What every runtime shares lives here, once:
the request checks against the SignatureDef, the deadline, and the batcher that merges
concurrent requests. It holds no lock: backends are safe to call from many threads at once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Mapping, NamedTuple, Protocol, Sequence

import grpc
import numpy as np

from serving import contract, errors
from serving.core import signature_check
from serving.core.observer import RunTiming, VersionObserver


class ServableLoadError(errors.ServingError):
    """A version that could not be loaded; `code` is the status GetModelStatus reports for it."""

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN):
        super().__init__(message)
        self.code = code


class Backend(Protocol):
    """A model loaded into one runtime.

    `signature_defs` describe every signature as TensorFlow's SignatureDef protos (what metadata
    returns and requests are checked against); `runnable_signatures` are those `run` can call
    (a SavedModel also lists entries that are not functions). `run` gets inputs already checked
    against the SignatureDef and raises serving errors (InvalidArgument for values the runtime
    rejects). `model_format` names the file the version was loaded from
    (serving.core.observer.SAVED_MODEL or TFLITE).
    """

    signature_defs: Mapping[str, object]
    runnable_signatures: frozenset[str]
    model_format: str

    def run(self, signature_name: str, feeds: Mapping[str, np.ndarray],
            output_aliases: Sequence[str]) -> dict[str, np.ndarray]: ...

    def unload(self) -> None: ...


class Batcher(Protocol):
    """Merges concurrent requests into batches (serving.batching.DynamicBatcher); `options` are
    its batching parameters (serving.batching.BatchingOptions). `run` (and `run_async`, its
    twin for callers on an event loop) fills `timing` with where the request's time went."""

    options: object

    def run(self, signature_name: str, feeds: Mapping[str, np.ndarray],
            output_aliases: Sequence[str], deadline: float | None = None,
            timing: RunTiming | None = None) -> dict[str, np.ndarray]: ...

    async def run_async(self, signature_name: str, feeds: Mapping[str, np.ndarray],
                        output_aliases: Sequence[str], deadline: float | None = None,
                        timing: RunTiming | None = None) -> dict[str, np.ndarray]: ...

    def stop(self) -> None: ...


class Servable:
    """A version ready to serve: `backend` runs it; `batcher` (optional) batches the signatures
    named in `batched_signatures`; `observer` (optional) hears about every request it runs.

    Example:
        servable = Servable("mnist", 3, "/models/mnist/3", backend)
        outputs = servable.run("serving_default", {"image": images})
    """

    def __init__(self, name: str, version: int, path: str, backend: Backend,
                 batcher: Batcher | None = None, batched_signatures: Sequence[str] = (),
                 observer: VersionObserver | None = None):
        if batcher is None and batched_signatures:
            raise ValueError("batched_signatures needs a batcher. "
                             f"Received: batched_signatures={sorted(batched_signatures)}")
        self.name = name
        self.version = version
        self.path = path
        self.backend = backend
        self.signature_defs = dict(backend.signature_defs)
        self.observer = observer
        self._batcher = batcher
        self._batched_signatures = frozenset(batched_signatures)
        self._plans: dict[str, signature_check.SignaturePlan] = {}

    @property
    def model_format(self) -> str:
        """The file the version was loaded from (SAVED_MODEL or TFLITE in serving.core.observer)."""
        return self.backend.model_format

    def with_batcher(self, batcher: Batcher, signature_names: Sequence[str]) -> "Servable":
        """The same version with `signature_names` sent through `batcher`; unload() stops it."""
        return Servable(self.name, self.version, self.path, self.backend, batcher,
                        signature_names, self.observer)

    def observed_by(self, observer: VersionObserver) -> "Servable":
        """The same version reporting its requests to `observer` (the server attaches one after
        warmup, so warmup requests are not counted)."""
        return Servable(self.name, self.version, self.path, self.backend, self._batcher,
                        self._batched_signatures, observer)

    def batcher_for(self, signature_name: str) -> Batcher | None:
        """The batcher requests to `signature_name` go through; None when they run alone."""
        signature_name = signature_name or contract.DEFAULT_SIGNATURE
        return self._batcher if signature_name in self._batched_signatures else None

    def run(self, signature_name: str, inputs: Mapping[str, np.ndarray],
            output_filter: Sequence[str] = (), deadline: float | None = None, *,
            check_dtypes: bool = True) -> dict[str, np.ndarray]:
        """Runs one signature on a batch of inputs and returns its outputs as numpy arrays.

        Aliases, dtypes and the output filter are checked against the SignatureDef first, with
        messages naming the signature, the alias and what was expected and received. Shapes are
        the model's to judge, as in TF Serving: a tensor of another shape is fed as it is, and
        only if the model fails on it is the answer an error naming the expected and received
        shape. An empty `signature_name` means "serving_default". String tensors are object
        arrays of bytes. Batched signatures run through the batcher, merged with concurrent
        requests of the same shapes. `deadline` (time.monotonic() seconds) is when the caller
        stops waiting: a request still not run by then is skipped. `check_dtypes=False` is for
        inputs the server built itself: Classify and Regress feed serialized tf.Examples as
        strings whatever dtype the signature declares, as TF Serving does (old exports declare
        DT_FLOAT for them). The observer, if any, hears how the request ended, its time in each
        stage and, for a request run alone, the model execution.

        Raises:
            errors.FailedPrecondition: no signature `signature_name`.
            errors.InvalidArgument: wrong aliases, dtype or output filter, or the runtime
                rejected the values while running.
            errors.DeadlineExceeded: `deadline` passed before the model ran.
            errors.Unavailable: the batching queue is full.
        """
        with _Observed(self.observer) as observed:
            prepared = self._prepare(signature_name, inputs, output_filter, check_dtypes)
            observed.rows = prepared.rows
            if prepared.batched:
                return self._batcher.run(prepared.signature_name, prepared.feeds, prepared.wanted,
                                         deadline, observed.timing)
            return self._run_alone(prepared, deadline, observed.timing)

    async def run_async(self, signature_name: str, inputs: Mapping[str, np.ndarray],
                        output_filter: Sequence[str] = (), deadline: float | None = None
                        ) -> dict[str, np.ndarray]:
        """`run` for a caller on an asyncio event loop (the gRPC transport), with the same
        checks, answers and errors: a batched request waits for its batch without holding a
        thread, and any other runs in the loop's default executor, so the loop's thread never
        waits for the model."""
        with _Observed(self.observer) as observed:
            prepared = self._prepare(signature_name, inputs, output_filter, True)
            observed.rows = prepared.rows
            if prepared.batched:
                return await self._batcher.run_async(prepared.signature_name, prepared.feeds,
                                                     prepared.wanted, deadline, observed.timing)
            return await asyncio.get_running_loop().run_in_executor(
                None, self._run_alone, prepared, deadline, observed.timing)

    def _prepare(self, signature_name: str, inputs: Mapping[str, np.ndarray],
                 output_filter: Sequence[str], check_dtypes: bool) -> "_PreparedRun":
        """The request checked against its signature, and whether it goes to the batcher."""
        signature_name = signature_name or contract.DEFAULT_SIGNATURE
        signature_def = self.signature_defs.get(signature_name)
        if signature_def is None:
            raise errors.FailedPrecondition(f'Serving signature key "{signature_name}" not found.')
        if signature_name not in self.backend.runnable_signatures:
            raise errors.FailedPrecondition(
                f'Serving signature key "{signature_name}" names an entry of the SavedModel that '
                f"is not a callable signature. Signatures: "
                f"{sorted(self.backend.runnable_signatures)}")
        plan = self._plans.get(signature_name)
        if plan is None:  # a race builds two equal plans, harmlessly
            plan = self._plans[signature_name] = signature_check.SignaturePlan(signature_name,
                                                                               signature_def)
        feeds, wanted, mismatches = plan.check(inputs, output_filter, check_dtypes)
        # A request shaped as the signature says may share a batch; any other runs on its own,
        # since the batcher could not know what its dimension 0 means.
        batched = (not mismatches and self._batcher is not None
                   and signature_name in self._batched_signatures)
        return _PreparedRun(signature_name, feeds, wanted, mismatches, plan.rows(feeds), batched)

    def _run_alone(self, prepared: "_PreparedRun", deadline: float | None,
                   timing: RunTiming) -> dict[str, np.ndarray]:
        """Runs a request that is not batched in the calling thread; `timing` is filled in."""
        if deadline is not None and time.monotonic() >= deadline:
            raise errors.DeadlineExceeded("Deadline exceeded before the model ran; the request "
                                          "was not run")
        started = time.perf_counter()
        try:
            outputs = self.backend.run(prepared.signature_name, prepared.feeds, prepared.wanted)
        except errors.InvalidArgument as error:
            if not prepared.mismatches:
                raise
            # The model refused a tensor the signature did not describe: say how it differed.
            raise errors.InvalidArgument(f"{prepared.mismatches[0]}; the model failed on it: "
                                         f"{error.message}") from error
        timing.compute_infer = time.perf_counter() - started
        if self.observer is not None:
            self.observer.model_ran(prepared.rows, timing)
        return outputs

    def unload(self) -> None:
        """Stops the batcher (what it has queued runs first), then lets the backend free the
        model; run() must not follow."""
        if self._batcher is not None:
            self._batcher.stop()
            self._batcher = None
        self.backend.unload()

    def __repr__(self) -> str:
        return f"Servable(name={self.name!r}, version={self.version}, path={self.path!r})"


class _PreparedRun(NamedTuple):
    """A request checked against its signature (Servable._prepare): the feeds and output aliases
    to run, how it differed from the signature, its examples, and whether it is batched."""

    signature_name: str
    feeds: dict
    wanted: list
    mismatches: list
    rows: int
    batched: bool


class _Observed:
    """Tells a version's observer (None: nobody) how one request ended: how many examples it
    had (`rows`, set once known), how long it took and where the time went (`timing`)."""

    __slots__ = ("_observer", "_started", "rows", "timing")

    def __init__(self, observer: VersionObserver | None):
        self._observer = observer
        self.rows = 0
        self.timing = RunTiming()

    def __enter__(self) -> "_Observed":
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type, error, traceback) -> bool:
        if self._observer is not None:
            seconds = time.perf_counter() - self._started
            if exc_type is None:
                self._observer.request_succeeded(self.rows, seconds, self.timing)
            elif isinstance(error, Exception):
                self._observer.request_failed(seconds)
        return False
