"""Batching parameters: TF Serving's BatchingParameters text files, read into checked options.

`--batching_parameters_file` and the per-model `batching_params.pbtxt` are parsed with the
`tensorflow.serving.BatchingParameters` message itself (serving/batching/batching_parameters_pb2,
generated from protos/), so a file written for tensorflow_model_server works unchanged. Unset
fields take TF Serving's defaults (SharedBatchScheduler::QueueOptions, BasicBatchScheduler).

A file that does not parse or holds an impossible value raises BatchingParametersError with one
line naming the file, the field and the value; the command line turns it into exit status 2, a
version's load into a failed load with that message.
"""

from __future__ import annotations

import dataclasses
import os

from serving import contract
from serving.text_config import TextProtoError, parse_text_proto

# The file TF Serving reads from a SavedModel version directory with
# --enable_per_model_batching_parameters (bundle_factory_util.cc).
PER_MODEL_FILE = os.path.join(*contract.BATCHING_PARAMETERS_FILE)

# TF Serving's defaults for the fields a file leaves unset.
DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_BATCH_TIMEOUT_MICROS = 0
DEFAULT_MAX_ENQUEUED_BATCHES = 10
DEFAULT_THREAD_POOL_NAME = "batch_threads"


class BatchingParametersError(ValueError):
    """A batching parameters file that cannot be used; the message is one line saying why."""


def default_num_batch_threads() -> int:
    """One batch thread per core, as TF Serving's port::MaxParallelism()."""
    return os.cpu_count() or 1


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    """How a model version's requests are batched (the fields of BatchingParameters).

    `max_execution_batch_size` is the largest batch run at once: `max_batch_size` unless
    `enable_large_batch_splitting` is on, when requests up to `max_batch_size` are split over
    batches of at most `max_execution_batch_size`.
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_timeout_micros: int = DEFAULT_BATCH_TIMEOUT_MICROS
    max_enqueued_batches: int = DEFAULT_MAX_ENQUEUED_BATCHES
    num_batch_threads: int = dataclasses.field(default_factory=default_num_batch_threads)
    thread_pool_name: str = DEFAULT_THREAD_POOL_NAME
    enable_large_batch_splitting: bool = False
    max_execution_batch_size: int | None = None
    allowed_batch_sizes: tuple[int, ...] = ()
    pad_variable_length_inputs: bool = False

    def __post_init__(self) -> None:
        for name, minimum in (("max_batch_size", 1), ("batch_timeout_micros", 0),
                              ("max_enqueued_batches", 1), ("num_batch_threads", 1)):
            value = getattr(self, name)
            if value < minimum:
                raise ValueError(f"{name} must be >= {minimum}. Received: {name}={value}")
        if self.max_execution_batch_size is not None and not (
                1 <= self.max_execution_batch_size <= self.max_batch_size):
            raise ValueError(
                "max_execution_batch_size must be between 1 and max_batch_size "
                f"({self.max_batch_size}). Received: "
                f"max_execution_batch_size={self.max_execution_batch_size}")
        sizes = tuple(self.allowed_batch_sizes)
        object.__setattr__(self, "allowed_batch_sizes", sizes)
        if sizes:
            if sizes[0] < 1 or any(later <= earlier for earlier, later in zip(sizes, sizes[1:])):
                raise ValueError("allowed_batch_sizes must be positive and strictly increasing. "
                                 f"Received: allowed_batch_sizes={list(sizes)}")
            if sizes[-1] != self.max_batch_size:
                # TF Serving's rule and message (bundle_factory_util.cc).
                raise ValueError(
                    "Last entry in allowed_batch_sizes must match max_batch_size; last entry "
                    f"was {sizes[-1]}; expected {self.max_batch_size}")

    @property
    def execution_batch_size(self) -> int:
        """The largest batch the model runs at once."""
        if self.enable_large_batch_splitting and self.max_execution_batch_size is not None:
            return self.max_execution_batch_size
        return self.max_batch_size

    @property
    def batch_timeout_seconds(self) -> float:
        return self.batch_timeout_micros / 1e6

    def padded_size(self, size: int) -> int:
        """The batch size a batch of `size` examples runs at: the next allowed size, or `size`."""
        for allowed in self.allowed_batch_sizes:
            if allowed >= size:
                return allowed
        return size


def threads_to_fill_batches(options: BatchingOptions) -> int:
    """How many calls may wait on one batcher usefully: a full batch per batch thread plus the
    next one forming. Each waiting call holds a server thread (TF Serving advises 2 x
    max_batch_size client threads); per batch at most 256, so max_batch_size=1000 (the default)
    does not ask for thousands of threads."""
    return (options.num_batch_threads + 1) * min(options.execution_batch_size, 256)


def parse_batching_parameters(text: str, source: str = "batching parameters",
                              num_batch_threads: int | None = None) -> BatchingOptions:
    """BatchingOptions from BatchingParameters text (`max_batch_size { value: 32 }` ...).

    `num_batch_threads` is the default for a text that does not set it (a per-model file takes
    the server-wide value, as TF Serving shares its batch threads across models).

    Raises:
        BatchingParametersError: the text does not parse (TF Serving's text, naming `source`),
            or a value is impossible (the message starts with `source`).
    """
    from serving.batching import batching_parameters_pb2

    try:
        message = parse_text_proto(text, batching_parameters_pb2.BatchingParameters(),
                                   source=source)
    except TextProtoError as error:
        raise BatchingParametersError(str(error)) from None
    fields = {}
    for name in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches",
                 "num_batch_threads", "thread_pool_name", "enable_large_batch_splitting",
                 "max_execution_batch_size"):
        if message.HasField(name):
            fields[name] = getattr(message, name).value
    if "num_batch_threads" not in fields and num_batch_threads is not None:
        fields["num_batch_threads"] = num_batch_threads
    try:
        return BatchingOptions(allowed_batch_sizes=tuple(message.allowed_batch_sizes),
                               pad_variable_length_inputs=message.pad_variable_length_inputs,
                               **fields)
    except ValueError as error:
        raise BatchingParametersError(f"{source}: {error}") from None


def read_batching_parameters_file(path: str, num_batch_threads: int | None = None
                                  ) -> BatchingOptions:
    """Reads and checks a BatchingParameters text file (see parse_batching_parameters).

    Raises:
        BatchingParametersError: the file cannot be read, does not parse, or is impossible.
    """
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise BatchingParametersError(f"cannot read batching parameters file {path}: {reason}"
                                      ) from None
    return parse_batching_parameters(text, source=f"batching parameters file {path}",
                                     num_batch_threads=num_batch_threads)


@dataclasses.dataclass(frozen=True)
class BatchingPolicy:
    """What the server does for every version it loads: --enable_batching and friends.

    `options` are the server-wide parameters. With `per_model`, a version is batched only if its
    directory holds batching_params.pbtxt, and then with the parameters in that file (TF
    Serving's --enable_per_model_batching_parameters).
    """

    options: BatchingOptions
    per_model: bool = False

    @classmethod
    def from_flags(cls, enable_batching: bool, parameters_file: str = "",
                   per_model: bool = False) -> "BatchingPolicy | None":
        """--enable_batching's policy (None without it): the server-wide parameters from
        --batching_parameters_file, else TF Serving's defaults. Reads the file.

        Raises:
            BatchingParametersError: the file cannot be read, does not parse, or is impossible.
        """
        if not enable_batching:
            return None
        options = read_batching_parameters_file(parameters_file) if parameters_file \
            else BatchingOptions()
        return cls(options, per_model=per_model)

    def options_for_version(self, version_path: str) -> BatchingOptions | None:
        """The parameters to batch the version at `version_path` with; None: do not batch it.

        Raises:
            BatchingParametersError: the version's batching_params.pbtxt is unusable.
        """
        if not self.per_model:
            return self.options
        path = os.path.join(version_path, PER_MODEL_FILE)
        if not os.path.exists(path):
            return None
        return read_batching_parameters_file(path,
                                             num_batch_threads=self.options.num_batch_threads)
