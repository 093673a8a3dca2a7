"""The contract between datasets, models, training and export.

A dataset loader returns a `Dataset`: raw numpy splits plus a `DataSpec` that tells a model
builder everything it needs (input name, shape and dtype, task, number of outputs, class names).
Models put their own preprocessing inside the graph, so the exported SavedModel takes the raw
values described by the spec.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zoo.errors import ConfigError

KINDS = ("image", "tabular", "sequence", "timeseries", "text")
TASKS = ("classification", "regression")

# The serving input name for each kind of data; it becomes the SavedModel signature's input key.
INPUT_NAMES = {
    "image": "image",
    "tabular": "features",
    "sequence": "sequence",
    "timeseries": "window",
    "text": "text",
}

# The two forms in which an exported image model takes its images, each the name of a signature of
# the export (serving_default is the one chosen at export): decoded pixels, the dataset's raw values
# under the input name above, or encoded image files (JPEG, PNG...) under "image_bytes", decoded and
# resized inside the graph as TF Serving's ResNet example does.
PIXELS = "pixels"
IMAGE_BYTES = "image_bytes"
INPUT_FORMS = (PIXELS, IMAGE_BYTES)
# Channel counts an image file decodes to: grayscale, RGB, RGBA.
DECODABLE_CHANNELS = (1, 3, 4)


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What a model needs to know about its data.

    `input_shape` is per example (no batch dimension). `input_dtype` is "float32" for numbers and
    "string" for text. `num_outputs` is the number of classes for classification and the number of
    predicted values for regression.
    """

    name: str
    kind: str
    task: str
    input_shape: tuple[int, ...]
    num_outputs: int
    input_dtype: str = "float32"
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}. Received: kind={self.kind!r}")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}. Received: task={self.task!r}")
        if self.num_outputs < 1:
            raise ValueError(f"num_outputs must be >= 1. Received: num_outputs={self.num_outputs}")
        if self.task == "classification" and self.class_names and len(self.class_names) != self.num_outputs:
            raise ValueError(
                f"class_names has {len(self.class_names)} names for {self.num_outputs} classes"
            )

    @property
    def input_name(self) -> str:
        return INPUT_NAMES[self.kind]

    @property
    def is_classification(self) -> bool:
        return self.task == "classification"

    @property
    def takes_image_files(self) -> bool:
        """Whether an image file can stand for one input: (height, width, channels) numbers with
        a channel count a decoder gives (so the export can have an image_bytes signature)."""
        return (self.kind == "image" and self.input_dtype != "string" and len(self.input_shape) == 3
                and self.input_shape[-1] in DECODABLE_CHANNELS)

    def check_input_form(self, input_form: str) -> None:
        """Raises ConfigError unless an export of this data can take `input_form` in serving_default."""
        if input_form not in INPUT_FORMS:
            raise ConfigError(f"input form must be one of {', '.join(INPUT_FORMS)}. Received: {input_form!r}")
        if input_form == IMAGE_BYTES and not self.takes_image_files:
            raise ConfigError(
                f"{IMAGE_BYTES} needs image data of shape (height, width, 1, 3 or 4 channels); dataset "
                f"{self.name!r} is {self.kind} data of shape {self.input_shape}. Use {PIXELS}"
            )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["input_name"] = self.input_name
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DataSpec":
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in fields}
        for key in ("input_shape", "class_names", "feature_names"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


@dataclasses.dataclass
class Dataset:
    """Raw train/validation/test splits of one dataset, as numpy arrays.

    x arrays have shape (N, *spec.input_shape); y arrays hold int64 class indices for
    classification, float32 targets of shape (N, num_outputs) or (N,) for regression.
    `source` says where the data was read from (shown by `zoo datasets` and in model cards).
    """

    spec: DataSpec
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            assert len(x) == len(y), f"{split}: {len(x)} inputs but {len(y)} targets"
            assert tuple(x.shape[1:]) == tuple(self.spec.input_shape), (
                f"{split}: inputs of shape {x.shape[1:]} but spec says {self.spec.input_shape}"
            )

    def subset(self, train_examples: int | None = None, seed: int = 0) -> "Dataset":
        """The same dataset with at most `train_examples` training examples (a fixed random draw)."""
        if train_examples is None or train_examples >= len(self.x_train):
            return self
        order = np.random.default_rng(seed).permutation(len(self.x_train))[:train_examples]
        return dataclasses.replace(self, x_train=self.x_train[order], y_train=self.y_train[order])
