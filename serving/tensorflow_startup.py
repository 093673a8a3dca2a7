"""Starts TensorFlow for a command: imports it and finds its devices, without its C++ start-up logs.

TensorFlow's native libraries log a few lines while they load (the oneDNN notice, the CUDA
probe, absl's "All log messages before absl::InitializeLog() is called are written to STDERR")
before absl's logging is initialised, so TF_CPP_MIN_LOG_LEVEL does not reach them; probing for
a GPU on a machine without one then logs `failed call to cuInit` as an error. None of it concerns
a user on a CPU, and the zoo's and the server's own output is what they should read. There is no
setting that silences those early lines, so while TensorFlow is imported and probes its devices,
file descriptor 2 is routed through a pipe and each line is copied back to the real stderr as it
arrives, unless it is a C++ log line below TF_CPP_MIN_LOG_LEVEL (the level TensorFlow would have
applied had its logging been ready), absl's notice, or the cuInit failure (which only says that
there is no usable GPU: the devices line says so). Everything else — Python warnings, tracebacks,
fatal errors, any text that is not a C++ log line — passes, in order, when it is written.

`import_tensorflow(verbose=True)` (a command's --verbose) sets TF_CPP_MIN_LOG_LEVEL=0, and
TF_CPP_MIN_LOG_LEVEL=0 in the environment turns the filter off: then TensorFlow's output reaches
stderr untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
# Info and warnings hidden, errors shown: the level the zoo's commands and zoo-serve default to.
DEFAULT_LOG_LEVEL = "2"
# A C++ log line: absl's `I0000 00:00:1796435750.042895   26196 port.cc:153] ...`, or TensorFlow's
# own older format `2024-01-02 03:04:05.678901: I tensorflow/core/...cc:42] ...`.
_LOG_LINE = re.compile(
    rb"^(?:(?P<absl>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ |"
    rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<tf>[IWEF]) )\S+:\d+\] "
)
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
_ABSL_NOTICE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_NO_GPU_ERROR = b"failed call to cuInit"


@dataclasses.dataclass(frozen=True)
class Devices:
    """The devices TensorFlow found: the GPUs' names (none on a CPU-only machine)."""

    gpus: tuple[str, ...]

    def describe(self) -> str:
        """One line for the user: `CPU (no GPU found)` or `2 GPUs (GPU:0, GPU:1) and the CPU`."""
        if not self.gpus:
            return "CPU (no GPU found)"
        count = f"{len(self.gpus)} GPU{'s' if len(self.gpus) > 1 else ''}"
        return f"{count} ({', '.join(self.gpus)}) and the CPU"


def import_tensorflow(*, verbose: bool = False) -> ModuleType:
    """Imports TensorFlow with its C++ start-up lines dropped as above; returns the module.

    Call it first thing in a command, before anything imports TensorFlow: lines TensorFlow logged
    in an earlier import are not repeated, so a late call has nothing left to filter.
    """
    if verbose:
        os.environ[LOG_LEVEL_VARIABLE] = "0"
    with _start_up_lines_dropped():
        import tensorflow

    return tensorflow


def find_devices() -> Devices:
    """The GPUs TensorFlow finds, probed with its C++ lines dropped (the failed cuInit included).

    Listing the physical devices does not start TensorFlow's runtime, so thread pools and logical
    devices can still be configured afterwards.
    """
    tf = import_tensorflow()
    with _start_up_lines_dropped():
        gpus = tf.config.list_physical_devices("GPU")
    return Devices(gpus=tuple(gpu.name.removeprefix("/physical_device:") for gpu in gpus))


def _start_up_lines_dropped() -> contextlib.AbstractContextManager:
    level = minimum_log_level()
    return stderr_filtered(lambda line: keeps_line(line, level)) if level > 0 else contextlib.nullcontext()


def minimum_log_level() -> int:
    """TF_CPP_MIN_LOG_LEVEL, set to the default of 2 when unset (TensorFlow reads it on import)."""
    text = os.environ.setdefault(LOG_LEVEL_VARIABLE, DEFAULT_LOG_LEVEL)
    try:
        return int(text)
    except ValueError:
        return 0  # TensorFlow ignores a value it cannot parse; so do we, and filter nothing


def keeps_line(line: bytes, level: int) -> bool:
    """Whether a line TensorFlow wrote to stderr during start-up reaches the user at `level` (> 0)."""
    if line.rstrip(b"\r\n") == _ABSL_NOTICE:
        return False
    match = _LOG_LINE.match(line)
    if match is None:
        return True
    severity = _SEVERITY[match.group("absl") or match.group("tf")]
    if severity < level:
        return False
    return severity == _SEVERITY[b"F"] or _NO_GPU_ERROR not in line


@contextlib.contextmanager
def stderr_filtered(keep: Callable[[bytes], bool]) -> Iterator[None]:
    """Within the block, lines written to file descriptor 2 (by C++ or Python) reach the real
    stderr, as they are written, only when `keep(line)` is true.

    A thread copies them, so a line is not held back until the block ends, and nothing written
    before a crash is kept from the user for long. Without a usable file descriptor 2 the block
    runs unfiltered.
    """
    try:
        sys.stderr.flush()
        real_stderr = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    copier = threading.Thread(
        target=_copy_lines, args=(read_end, real_stderr, keep), name="stderr-filter", daemon=True
    )
    copier.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(real_stderr, 2)  # the pipe's last writer goes, so the copier reads to its end
        # A child process started in the block may still hold the pipe: the copier then keeps
        # copying its lines in the background rather than making the caller wait for it.
        copier.join(timeout=5)


def _copy_lines(read_end: int, destination: int, keep: Callable[[bytes], bool]) -> None:
    pending = b""
    try:
        while chunk := os.read(read_end, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            _write_all(destination, b"".join(line + b"\n" for line in lines if keep(line + b"\n")))
        if pending and keep(pending):
            _write_all(destination, pending)
    finally:
        os.close(read_end)
        os.close(destination)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]
