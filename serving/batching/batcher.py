"""DynamicBatcher: merges concurrent requests to one model version into batches, runs each once.

Scheduling, per version:
- A request that finds the queue empty and a batch slot free runs at once in its own thread:
  light load never waits for the batch timeout, and pays no thread hand-off.
- Otherwise it joins the open batch for its queue key (merging.queue_key), or opens a new one.
  More than `max_enqueued_batches` waiting batches: refused at once with UNAVAILABLE.
- `num_batch_threads` threads run batches. A batch runs when a slot is free and it is full,
  or its oldest request has waited `batch_timeout_micros` (TF Serving's rule), or the batcher
  is stopping. At most `num_batch_threads` batches (inline requests included) run at once.
- `run_async` is `run` for callers on an asyncio event loop (the gRPC transport): the request
  waits as a future that the batch thread resolves, holding no thread, and a request that finds
  the batcher idle goes straight to a batch thread instead of running inline.
- Every request may carry a deadline (time.monotonic() seconds): an expired request is never
  run; it is answered DEADLINE_EXCEEDED, whether it expired before queueing, while queued, or
  before its batch started.

The lock guards only the queue; it is never held while a model runs, merges or splits. Each
request's timing (serving.core.RunTiming) says how long it queued and how long its batch took to
merge, run and split; the observer hears about every batch and every queued request.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import functools
import threading
import time
import weakref
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from serving import errors
from serving.batching import merging
from serving.batching.parameters import BatchingOptions
from serving.core.observer import RunTiming

# run_batch(signature_name, inputs, output_aliases) -> outputs: the model call.
RunBatch = Callable[[str, Mapping[str, np.ndarray], Sequence[str]], Mapping[str, np.ndarray]]

_QUEUED, _RUNNING, _FINISHED, _WITHDRAWN = "queued", "running", "finished", "withdrawn"


class BatchObserver(Protocol):
    """Receives the batcher's measurements: the part of serving.core.VersionObserver that a
    batcher reports (the server's is serving.metrics.VersionRecorder)."""

    def batch_ran(self, size: int, timing: RunTiming | None) -> None:
        """A batch of `size` rows (padding included) went to the model; `timing` (None when it
        failed) says how long it took to merge, run and split."""

    def model_ran(self, size: int, timing: RunTiming) -> None:
        """A request with no batch dimension to merge along ran on its own."""

    def request_queued(self, seconds: float) -> None:
        """A request waited `seconds` in the queue before its batch started."""

    def queue_depth(self, requests: int) -> None:
        """`requests` requests wait in the queue now."""


class _Task:
    """One request (or one chunk of a split request) and, once done, its outputs or error."""

    __slots__ = ("key", "feeds", "size", "deadline", "enqueued_at", "state", "batch", "done",
                 "on_finish", "outputs", "error", "timing")

    def __init__(self, key: tuple, feeds: Mapping[str, np.ndarray], size: int,
                 deadline: float | None, on_finish: Callable[["_Task"], None] | None = None):
        self.key = key
        self.feeds = feeds
        self.size = size
        self.deadline = deadline
        self.enqueued_at = 0.0
        self.state = _QUEUED
        self.batch: _Batch | None = None
        # Without `on_finish` (called by the thread that finishes the task), held until the task
        # finishes: the waiter blocks acquiring it. A bare lock is the cheapest one-shot signal
        # between two threads (an Event is a Condition and two locks).
        self.on_finish = on_finish
        if on_finish is None:
            self.done = threading.Lock()
            self.done.acquire()
        self.outputs: Mapping[str, np.ndarray] | None = None
        self.error: BaseException | None = None
        self.timing = RunTiming()

    def finish(self, outputs=None, error: BaseException | None = None) -> None:
        self.outputs, self.error = outputs, error
        self.state = _FINISHED
        if self.on_finish is None:
            self.done.release()
        else:
            self.on_finish(self)

    def wait(self, timeout: float | None) -> bool:
        """Whether the task finished within `timeout` seconds (None: however long it takes).

        A timeout beyond what the platform's locks take (threading.TIMEOUT_MAX, about 292
        years) is no limit: clients such as perf_analyzer send deadlines that far away.
        """
        if timeout is None or timeout > threading.TIMEOUT_MAX:
            return self.done.acquire()
        return self.done.acquire(timeout=timeout)


class _Batch:
    """Requests with one queue key waiting to run together; `closed` once it takes no more."""

    __slots__ = ("key", "tasks", "size", "ready_at", "closed")

    def __init__(self, key: tuple, ready_at: float):
        self.key = key
        self.tasks: list[_Task] = []
        self.size = 0
        self.ready_at = ready_at  # when it runs, full or not
        self.closed = False


class DynamicBatcher:
    """Batches the requests of one model version; `run` is called from many threads at once.

    Args:
        run_batch: runs the model on already-checked inputs (Servable's model call).
        options: the batching parameters.
        name: names the threads and log lines ("mnist:3").
        observer: optional BatchObserver for metrics.
    """

    def __init__(self, run_batch: RunBatch, options: BatchingOptions, *, name: str = "",
                 observer: BatchObserver | None = None):
        if not isinstance(options, BatchingOptions):
            raise TypeError("options must be a BatchingOptions. "
                            f"Received: {type(options).__name__}")
        self._run_batch = run_batch
        self._options = options
        self._capacity = options.execution_batch_size
        self._name = name
        self._observer = observer
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[_Batch] = collections.deque()
        self._open: dict[tuple, _Batch] = {}
        self._queued_tasks = 0
        self._running = 0
        # run_async's waiters' event loops -> their _LoopWaker (gone with the loop).
        self._wakers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{options.thread_pool_name}-{name}-{index}",
                             daemon=True)
            for index in range(options.num_batch_threads)]
        for thread in self._threads:
            thread.start()

    @property
    def options(self) -> BatchingOptions:
        return self._options

    def queued_requests(self) -> int:
        """Requests waiting in the queue now (not those running)."""
        with self._cond:
            return self._queued_tasks

    def run(self, signature_name: str, feeds: Mapping[str, np.ndarray],
            output_aliases: Sequence[str], deadline: float | None = None,
            timing: RunTiming | None = None) -> dict[str, np.ndarray]:
        """Runs one request through the batch queue; returns its own outputs.

        `feeds` must already be checked against the signature. A request with no common
        dimension 0 runs on its own, right away. `timing`, if given, is filled in with the
        request's time in the queue and its batch's time in the model.

        Raises:
            errors.DeadlineExceeded: `deadline` passed before the request ran.
            errors.Unavailable: the queue is full, or the batcher is stopping.
            errors.InvalidArgument: the request is larger than max_batch_size.
            Whatever `run_batch` raises for the batch the request ran in.
        """
        _check_deadline(deadline, "before it was queued")
        size = merging.request_batch_size(feeds)
        if size is None:
            return self._run_alone(signature_name, feeds, output_aliases, timing)
        if size > self._options.max_batch_size:
            # TF Serving's message (shared_batch_scheduler.h).
            raise errors.InvalidArgument(
                f"Task size {size} is larger than maximum input batch size "
                f"{self._options.max_batch_size}; send at most {self._options.max_batch_size} "
                "examples per request")
        key = merging.queue_key(signature_name, feeds, output_aliases,
                                self._options.pad_variable_length_inputs)
        if size > self._capacity:
            return self._run_split(key, feeds, size, deadline, timing)
        task = _Task(key, feeds, size, deadline)
        with self._cond:
            inline = self._claim_inline_slot()
            if not inline:
                self._enqueue([task])
        outputs = self._run_inline(task) if inline else self._wait(task)
        if timing is not None:
            _copy_timing(task.timing, timing)
        return outputs

    async def run_async(self, signature_name: str, feeds: Mapping[str, np.ndarray],
                        output_aliases: Sequence[str], deadline: float | None = None,
                        timing: RunTiming | None = None) -> dict[str, np.ndarray]:
        """`run` for a caller on an asyncio event loop, with the same answers and errors.

        The request waits for its batch as a future the batch thread resolves, so it holds no
        thread meanwhile. A request that finds the batcher idle opens a batch that runs at once
        (the loop's thread must not run the model, as `run`'s caller does). A request with no
        common dimension 0, or larger than a batch, runs through `run` in the loop's default
        executor. A caller that gives up (the call is cancelled) takes its request out of the
        queue if it has not started.
        """
        _check_deadline(deadline, "before it was queued")
        size = merging.request_batch_size(feeds)
        loop = asyncio.get_running_loop()
        if size is None or size > self._capacity:
            return await loop.run_in_executor(None, functools.partial(
                self.run, signature_name, feeds, output_aliases, deadline, timing))
        key = merging.queue_key(signature_name, feeds, output_aliases,
                                self._options.pad_variable_length_inputs)
        waker = self._wakers.get(loop)
        if waker is None:
            waker = self._wakers[loop] = _LoopWaker(loop)
        future = loop.create_future()
        task = _Task(key, feeds, size, deadline,
                     on_finish=lambda task: waker.finished(future, task))
        with self._cond:
            self._refuse_if_stopping()
            self._enqueue([task], run_now=self._has_free_slot())
        # A timer rather than asyncio.wait_for, which wraps every wait in a second future.
        timer = (None if deadline is None else
                 loop.call_later(max(0.0, deadline - time.monotonic()), _expire, future))
        try:
            outputs = await future
        except (_Expired, asyncio.CancelledError) as error:
            with self._cond:
                if task.state == _QUEUED:
                    self._withdraw(task)
            if isinstance(error, _Expired):
                raise errors.DeadlineExceeded(
                    "Deadline exceeded while the request waited for its batch to run") from None
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if timing is not None:
            _copy_timing(task.timing, timing)
        return outputs

    def stop(self) -> None:
        """Runs what is queued, then ends the batch threads; later requests get UNAVAILABLE."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    # === Queueing (called with the lock held) ===

    def _refuse_if_stopping(self) -> None:
        if self._stopping:
            raise errors.Unavailable(f"Model version {self._name} is being unloaded; retry")

    def _has_free_slot(self) -> bool:
        """Nothing is queued and a batch could start now."""
        return not self._queue and self._running < self._options.num_batch_threads

    def _claim_inline_slot(self) -> bool:
        self._refuse_if_stopping()
        if self._has_free_slot():
            self._running += 1
            return True
        return False

    def _enqueue(self, tasks: list[_Task], run_now: bool = False) -> None:
        """Adds tasks to their key's open batch, opening batches as needed; all or none.
        A batch opened `run_now` runs as soon as a thread takes it, whatever its size."""
        new_batches = self._batches_needed(tasks)
        if len(self._queue) + new_batches > self._options.max_enqueued_batches:
            raise errors.Unavailable(
                f"The batch scheduling queue of model version {self._name} is full "
                f"({self._options.max_enqueued_batches} batches waiting); retry later")
        now = time.monotonic()
        for task in tasks:
            batch = self._open.get(task.key)
            if batch is None or batch.size + task.size > self._capacity:
                if batch is not None:
                    batch.closed = True
                batch = _Batch(task.key,
                               now if run_now else now + self._options.batch_timeout_seconds)
                self._queue.append(batch)
                self._open[task.key] = batch
            task.enqueued_at = now
            task.batch = batch
            batch.tasks.append(task)
            batch.size += task.size
            if batch.size >= self._capacity:
                batch.closed = True
                del self._open[task.key]
        self._queued_tasks += len(tasks)
        self._report_depth()
        self._cond.notify()

    def _batches_needed(self, tasks: list[_Task]) -> int:
        if len(tasks) == 1:  # every request but a split one
            batch = self._open.get(tasks[0].key)
            return int(batch is None or batch.size + tasks[0].size > self._capacity)
        room = {key: self._capacity - batch.size for key, batch in self._open.items()}
        needed = 0
        for task in tasks:
            if room.get(task.key, 0) < task.size:
                needed += 1
                room[task.key] = self._capacity
            room[task.key] -= task.size
        return needed

    def _withdraw(self, task: _Task) -> None:
        """Takes a queued task out of its batch (its caller gave up)."""
        batch = task.batch
        batch.tasks.remove(task)
        batch.size -= task.size
        task.state = _WITHDRAWN
        self._queued_tasks -= 1
        if not batch.tasks:
            self._queue.remove(batch)
            if self._open.get(batch.key) is batch:
                del self._open[batch.key]
        self._report_depth()

    def _next_ready_batch(self, now: float) -> tuple[_Batch | None, float | None]:
        """The first batch that may run now, else how long until one may (None: no batch)."""
        wait = None
        for batch in self._queue:
            ready_in = 0.0 if (batch.closed or self._stopping) else batch.ready_at - now
            if ready_in <= 0:
                return batch, None
            wait = ready_in if wait is None else min(wait, ready_in)
        return None, wait

    def _take(self, batch: _Batch, now: float) -> list[_Task]:
        """Removes `batch` from the queue; returns its tasks, expired ones already answered."""
        self._queue.remove(batch)
        if self._open.get(batch.key) is batch:
            del self._open[batch.key]
        self._queued_tasks -= len(batch.tasks)
        self._report_depth()
        live = []
        for task in batch.tasks:
            if task.deadline is not None and now >= task.deadline:
                task.finish(error=errors.DeadlineExceeded(
                    "Deadline exceeded while the request waited in the batching queue; it was "
                    "not run"))
            else:
                task.state = _RUNNING
                live.append(task)
        return live

    def _report_depth(self) -> None:
        if self._observer is not None:
            self._observer.queue_depth(self._queued_tasks)

    # === Running ===

    def _work(self) -> None:
        """A batch thread: waits for a ready batch and a free slot, runs it, repeats."""
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._queue and self._running < self._options.num_batch_threads:
                        batch, wait = self._next_ready_batch(now)
                        if batch is not None:
                            tasks = self._take(batch, now)
                            self._running += 1
                            break
                        self._cond.wait(wait)
                    elif self._stopping and not self._queue:
                        return
                    else:
                        self._cond.wait()
            try:
                if tasks:
                    self._execute(tasks, now)
            finally:
                self._release_slot()

    def _run_inline(self, task: _Task) -> dict[str, np.ndarray]:
        task.state = _RUNNING
        try:
            self._execute([task], time.monotonic())
        finally:
            self._release_slot()
        if task.error is not None:
            raise task.error
        return dict(task.outputs)

    def _release_slot(self) -> None:
        with self._cond:
            self._running -= 1
            if self._queue or self._stopping:
                self._cond.notify()

    def _execute(self, tasks: list[_Task], started: float) -> None:
        """Merges, runs and splits one batch; every task ends finished, never left waiting.

        `started` (time.monotonic()) is when the batch left the queue. Each task's timing gets
        its own wait and the batch's merge, run and split times, before it is finished.
        """
        sizes = [task.size for task in tasks]
        padded_size = self._options.padded_size(sum(sizes))
        signature_name, output_aliases = tasks[0].key[0], tasks[0].key[1]
        batch_timing = None
        try:
            clock = time.perf_counter()
            inputs = merging.merge_inputs([task.feeds for task in tasks], padded_size,
                                          self._options.pad_variable_length_inputs)
            merged = time.perf_counter()
            outputs = self._run_batch(signature_name, inputs, output_aliases)
            ran = time.perf_counter()
            parts = merging.split_outputs(outputs, sizes, padded_size)
            batch_timing = RunTiming(compute_input=merged - clock, compute_infer=ran - merged,
                                     compute_output=time.perf_counter() - ran)
        except BaseException as error:  # every waiter must hear how its batch ended
            for task in tasks:
                task.finish(error=_own_copy(error) if len(tasks) > 1 else error)
            if not isinstance(error, Exception):
                raise
        else:
            for task, part in zip(tasks, parts):
                _copy_timing(batch_timing, task.timing)
                task.timing.queue = started - task.enqueued_at if task.enqueued_at else 0.0
                task.finish(outputs=part)
        finally:
            if self._observer is not None:
                self._observer.batch_ran(padded_size, batch_timing)
                for task in tasks:
                    if task.enqueued_at:
                        self._observer.request_queued(started - task.enqueued_at)

    def _run_alone(self, signature_name: str, feeds: Mapping[str, np.ndarray],
                   output_aliases: Sequence[str], timing: RunTiming | None
                   ) -> dict[str, np.ndarray]:
        """Runs a request that has no batch dimension to merge along, in the caller's thread."""
        started = time.perf_counter()
        outputs = dict(self._run_batch(signature_name, feeds, output_aliases))
        alone = RunTiming(compute_infer=time.perf_counter() - started)
        if timing is not None:
            _copy_timing(alone, timing)
        if self._observer is not None:
            self._observer.model_ran(1, alone)
        return outputs

    def _wait(self, task: _Task) -> dict[str, np.ndarray]:
        timeout = None if task.deadline is None else max(0.0, task.deadline - time.monotonic())
        if not task.wait(timeout):
            with self._cond:
                if task.state == _QUEUED:
                    self._withdraw(task)
            raise errors.DeadlineExceeded(
                "Deadline exceeded while the request waited for its batch to run")
        if task.error is not None:
            raise task.error
        return dict(task.outputs)

    def _run_split(self, key: tuple, feeds: Mapping[str, np.ndarray], size: int,
                   deadline: float | None, timing: RunTiming | None) -> dict[str, np.ndarray]:
        """enable_large_batch_splitting: runs a large request as chunks of the execution size.

        The request's queue time is its longest-waiting chunk's; its model times are the sums
        of its chunks' batches.
        """
        tasks = []
        for start in range(0, size, self._capacity):
            chunk = {alias: array[start:start + self._capacity] for alias, array in feeds.items()}
            tasks.append(_Task(key, chunk, min(self._capacity, size - start), deadline))
        with self._cond:
            self._refuse_if_stopping()
            self._enqueue(tasks)
        try:
            outputs = merging.concatenate_outputs([self._wait(task) for task in tasks])
            if timing is not None:
                timing.queue = max(task.timing.queue for task in tasks)
                timing.compute_input = sum(task.timing.compute_input for task in tasks)
                timing.compute_infer = sum(task.timing.compute_infer for task in tasks)
                timing.compute_output = sum(task.timing.compute_output for task in tasks)
            return outputs
        except BaseException:
            with self._cond:  # the chunks still queued would be run for nobody
                for task in tasks:
                    if task.state == _QUEUED:
                        self._withdraw(task)
            raise


def _check_deadline(deadline: float | None, when: str) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise errors.DeadlineExceeded(f"Deadline exceeded {when}; the request was not run")


class _LoopWaker:
    """Settles the futures of `run_async` waiters on one event loop from the threads that finish
    their tasks, with one wake-up of the loop for all the tasks finished since the last (a
    batch's), not one per task."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._lock = threading.Lock()
        self._finished: list[tuple[asyncio.Future, _Task]] = []

    def finished(self, future: asyncio.Future, task: _Task) -> None:
        with self._lock:
            self._finished.append((future, task))
            if len(self._finished) > 1:
                return  # a wake-up is already on its way
        try:
            self._loop.call_soon_threadsafe(self._settle_finished)
        except RuntimeError:  # the loop has closed: nobody waits any more
            pass

    def _settle_finished(self) -> None:
        with self._lock:
            finished, self._finished = self._finished, []
        for future, task in finished:
            _settle(future, task)


class _Expired(Exception):
    """A `run_async` waiter's deadline passed."""


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(_Expired())


def _settle(future: asyncio.Future, task: _Task) -> None:
    """On the waiter's loop: hands `task`'s outputs or error to its future (unless the waiter
    has gone)."""
    if future.done():
        return
    if task.error is not None:
        future.set_exception(task.error)
    else:
        future.set_result(dict(task.outputs))


def _copy_timing(source: RunTiming, target: RunTiming) -> None:
    target.queue, target.compute_input = source.queue, source.compute_input
    target.compute_infer, target.compute_output = source.compute_infer, source.compute_output


def _own_copy(error: BaseException) -> BaseException:
    """A copy of a batch's error for each of its waiters: one exception object raised in many
    threads at once would have its traceback rewritten under their feet."""
    try:
        return copy.copy(error)
    except Exception:  # an exception type copy cannot rebuild: share the original
        return error
