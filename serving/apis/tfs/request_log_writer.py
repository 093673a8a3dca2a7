"""RequestLogWriter: sampled request logs written to rotating TFRecord files, off the request path.

This is the log collector of TF Serving's request logging (core/log_collector.h): a request
thread hands over a record that is not even serialized yet (`PendingRecord.serialize` runs on the
writer's thread), into a bounded queue. When the queue is full the record is dropped and counted
(`:tensorflow:serving:request_log_count{status_code="RESOURCE_EXHAUSTED"}`): a slow disk never
blocks a request. One thread per writer drains the queue every POLL_SECONDS into
`PREFIX-YYYYmmdd-HHMMSS-PID-N-INDEX.tfrecord`, starting a new file after `max_file_records`
records (by default the most a warmup file may hold, so any file can be used as a version's
assets.extra/tf_serving_warmup_requests) or `max_file_bytes`; the file is flushed after each pass
over the queue, so what was logged is on disk within moments.

Payloads never reach the server's log: a write that fails is logged with the file and the error
only (once per kind of error), and counted with status DATA_LOSS.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import tempfile
import threading
import time
from typing import Callable, NamedTuple

import grpc

from serving.contract import MAX_WARMUP_RECORDS
from serving.metrics import record_request_log

logger = logging.getLogger("serving.request_log")

DEFAULT_QUEUE_SIZE = 1024
# How often the writer drains the queue: DEFAULT_QUEUE_SIZE records per pass is ~50k a second.
POLL_SECONDS = 0.02
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
_writer_ids = itertools.count(1)


class PendingRecord(NamedTuple):
    """One record to write: `serialize()` builds its bytes on the writer's thread; `model`
    names it in the request_log_count metric."""

    model: str
    serialize: Callable[[], bytes]


def check_writable(filename_prefix: str) -> str:
    """Creates the directory of `filename_prefix` if needed and checks a file can be created
    there (as the server's user, whatever the permission bits say); returns the directory.

    Raises:
        OSError: the directory cannot be created or written.
    """
    directory = os.path.dirname(os.path.abspath(filename_prefix))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
        pass
    return directory


class RequestLogWriter:
    """Writes records under `filename_prefix` (see the module docstring).

    Raises (from the constructor):
        OSError: the directory of `filename_prefix` cannot be written.
    """

    def __init__(self, filename_prefix: str, *, queue_size: int = DEFAULT_QUEUE_SIZE,
                 max_file_records: int = MAX_WARMUP_RECORDS,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
        for name, value in (("queue_size", queue_size), ("max_file_records", max_file_records),
                            ("max_file_bytes", max_file_bytes)):
            if value < 1:
                raise ValueError(f"{name} must be positive. Received: {name}={value}")
        check_writable(filename_prefix)
        self.filename_prefix = os.path.abspath(filename_prefix)
        self.max_file_records = max_file_records
        self.max_file_bytes = max_file_bytes
        self.queue_size = queue_size
        self._records: collections.deque[PendingRecord] = collections.deque()
        self._wakeup = threading.Event()
        self._flush_waiters: list[threading.Event] = []
        self._name_stem = (f"{self.filename_prefix}-{time.strftime('%Y%m%d-%H%M%S')}-"
                           f"{os.getpid()}-{next(_writer_ids)}")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._file = None
        self._file_records = 0
        self._file_bytes = 0
        self._file_index = 0
        self._reported_errors: set[str] = set()
        self.paths: list[str] = []  # files written so far, oldest first

    def submit(self, record: PendingRecord) -> bool:
        """Queues `record` without waiting; False (and counted) when the queue is full.

        Appending to a deque takes no lock and wakes nobody: the writer drains it every
        POLL_SECONDS, so a request never pays for a thread switch, and the writer's work comes
        in batches rather than one wake-up (and GIL hand-over) per logged request.
        """
        if self._thread is None:
            self._start()
        if len(self._records) >= self.queue_size:  # may overshoot by the threads racing here
            record_request_log(record.model, grpc.StatusCode.RESOURCE_EXHAUSTED)
            return False
        self._records.append(record)
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until every record queued so far is written and on disk; False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        with self._lock:
            if self._closed:
                return not self._thread.is_alive()
            self._flush_waiters.append(done)
        self._wakeup.set()
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Writes what is queued (for up to `timeout` seconds), then closes the file."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._wakeup.set()
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("event=request_log_close_timeout prefix=%s", self.filename_prefix)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name="request-log-writer",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wakeup.wait(POLL_SECONDS)
            self._wakeup.clear()
            with self._lock:
                # Flushes asked before this pass: their records are in the deque already.
                waiters, self._flush_waiters = self._flush_waiters, []
                stopping = self._closed
            while self._records:
                self._write(self._records.popleft())
            self._flush_file()
            for done in waiters:
                done.set()
            if stopping:
                self._close_file()
                return

    def _write(self, record: PendingRecord) -> None:
        try:
            data = record.serialize()
            if self._file is None or (self._file_records >= self.max_file_records
                                      or self._file_bytes >= self.max_file_bytes):
                self._open_next_file()
            self._file.write(data)
        except Exception as error:  # noqa: BLE001 - a record that cannot be written is counted
            record_request_log(record.model, grpc.StatusCode.DATA_LOSS)
            self._report(error)
            return
        self._file_records += 1
        self._file_bytes += len(data) + 16  # TFRecord framing: length, two CRCs
        record_request_log(record.model, grpc.StatusCode.OK)

    def _open_next_file(self) -> None:
        import tensorflow as tf  # TFRecord framing (masked CRC32C) as TensorFlow writes it

        self._close_file()
        path = f"{self._name_stem}-{self._file_index:05d}.tfrecord"
        self._file_index += 1
        self._file = tf.io.TFRecordWriter(path)
        self._file_records = self._file_bytes = 0
        self.paths.append(path)

    def _flush_file(self) -> None:
        if self._file is not None:
            try:
                self._file.flush()
            except Exception as error:  # noqa: BLE001 - reported, the writer goes on
                self._report(error)

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except Exception as error:  # noqa: BLE001
                self._report(error)
            self._file = None

    def _report(self, error: Exception) -> None:
        """Logs a failure once per kind of error: the prefix and the error, never the record."""
        kind = f"{type(error).__name__}: {error}"
        if kind in self._reported_errors:
            return
        self._reported_errors.add(kind)
        logger.error("event=request_log_write_failed prefix=%s error=%r", self.filename_prefix,
                     kind)
