"""Training configuration: one dataclass, filled from defaults, a YAML file, then CLI flags."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import ConfigError
from zoo.spec import INPUT_FORMS, PIXELS

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "exponential")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu", "parameter_server")


@dataclasses.dataclass
class TrainConfig:
    """Everything that determines a training run; recorded in metrics.json and the model card."""

    model: str
    dataset: str
    epochs: int = 10
    batch_size: int = 64  # global batch size, split across replicas
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9  # sgd only
    weight_decay: float = 1e-4  # adamw only
    schedule: str = "cosine"  # decays over the whole run
    strategy: str = "auto"
    num_devices: int = 2  # logical CPU devices for `mirrored` on a machine without GPUs
    tpu: str = ""  # TPU name or address for the `tpu` strategy
    mixed_precision: bool = False
    jit_compile: bool = False
    seed: int = 0
    early_stopping_patience: int = 0  # epochs without val improvement; 0 turns it off
    validation_fraction: float = 0.1
    train_examples: int | None = None  # use only this many training examples
    train_fraction: float | None = None  # or only this fraction of them
    data_dir: str | None = None
    target: str | None = None  # csv: the target column
    dataset_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    model_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    workdir: str = "runs/{model}-{dataset}"
    export_base: str | None = None
    export_name: str | None = None  # defaults to the model name
    export_tflite: bool = False  # also write model.tflite into the exported version
    export_input: str = PIXELS  # what the export's serving_default takes: pixels or image_bytes (images)
    verbose: int | None = None  # Keras verbosity; None: progress bar on a terminal, else per epoch

    def __post_init__(self) -> None:
        _check_positive(self, "epochs", "batch_size", "num_devices")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0. Received: learning_rate={self.learning_rate}")
        if not 0 < self.validation_fraction < 1:
            raise ConfigError(
                f"validation_fraction must be between 0 and 1. Received: validation_fraction={self.validation_fraction}"
            )
        if self.early_stopping_patience < 0:
            raise ConfigError(
                f"early_stopping_patience must be >= 0. Received: early_stopping_patience={self.early_stopping_patience}"
            )
        if self.train_fraction is not None and not 0 < self.train_fraction <= 1:
            raise ConfigError(f"train_fraction must be in (0, 1]. Received: train_fraction={self.train_fraction}")
        if self.train_examples is not None and self.train_examples < 1:
            raise ConfigError(f"train_examples must be >= 1. Received: train_examples={self.train_examples}")
        if self.export_tflite and not self.export_base:
            raise ConfigError("export_tflite needs export_base: the TF Lite model is written next to "
                              "the exported SavedModel (give --export-base DIR)")
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("export_input", self.export_input, INPUT_FORMS)

    @property
    def resolved_workdir(self) -> Path:
        return Path(self.workdir.format(model=self.model, dataset=self.dataset.replace(":", "_").replace("/", "_")))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def chosen(default: Any, why: str) -> Any:
    """A config field whose default was chosen for a reason, which the command's --help gives."""
    return dataclasses.field(default=default, metadata={"why": why})


def default_and_why(config_class: type, name: str) -> str:
    """`Default 0.0003: <why>` for --help, from a field made with `chosen`."""
    field = next(f for f in dataclasses.fields(config_class) if f.name == name)
    return f"Default {field.default}: {field.metadata['why']}"


@dataclasses.dataclass
class FinetuneConfig(TrainConfig):
    """`zoo finetune`'s settings: TrainConfig's, plus the two phases.

    The defaults of the phases are the settings of the tuned efficientnet_lite0_fashion_mnist
    recipe, the best general ones we know; each field says why, and so does `zoo finetune --help`.
    Measured with `zoo finetune efficientnet_lite0 --dataset fashion_mnist --train-fraction 0.02
    --image-size 64 --head-epochs 2 --finetune-epochs 2` (seed 0; test accuracy): these defaults
    0.788 (seeds 1 and 2: 0.780, 0.796); the old ones, the top 2 blocks at 1e-5, 0.668; the top 5
    blocks at 1e-5 0.681; the top 2 at 3e-4 0.787.
    """

    weights: str = chosen("imagenet", "pretrained features are what make a few hundred labels enough.")
    image_size: int = chosen(96, "a fifth of the compute of ImageNet's 224 px, so a run takes "
                             "minutes on a CPU; the Fashion-MNIST recipe uses 64 for its 28x28 images.")
    head_epochs: int = chosen(3, "a new head on fixed features converges in a few epochs.")
    finetune_epochs: int = chosen(3, "enough for the unfrozen blocks to adapt to a small dataset; "
                                  "give --early-stopping to longer runs.")
    unfreeze_top: int | None = chosen(5, "the tuned recipe's choice, EfficientNet-Lite0's last stage "
                                      "and head conv (2.6 M parameters), for images far from "
                                      "ImageNet's photos; with little data 2 blocks do as well "
                                      "(0.787 against 0.788 on 2% of Fashion-MNIST): the rate "
                                      "is what counts.")
    unfreeze_from: str | None = None  # or: every backbone layer from this one on
    head_learning_rate: float = chosen(1e-3, "Adam's usual rate; the head starts from random weights "
                                       "and cannot hurt the frozen backbone.")
    finetune_learning_rate: float = chosen(3e-4, "the tuned recipe's rate; at the textbook 1e-5 the "
                                           "unfrozen blocks barely move in a few epochs (0.67 against "
                                           "0.79 test accuracy on 2% of Fashion-MNIST).")
    augmentation: tuple[str, ...] = ()  # flip, rotation, zoom: active in training only
    dropout: float = 0.2

    def __post_init__(self) -> None:
        for name in ("head_epochs", "finetune_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer. Received: {name}={value}")
        if self.head_epochs + self.finetune_epochs == 0:
            raise ConfigError("head_epochs and finetune_epochs are both 0: nothing to train")
        for name in ("head_learning_rate", "finetune_learning_rate"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0. Received: {name}={getattr(self, name)}")
        if self.unfreeze_from is not None:
            self.unfreeze_top = None
        elif self.unfreeze_top is None or self.unfreeze_top < 0:
            raise ConfigError(f"unfreeze_top must be >= 0. Received: unfreeze_top={self.unfreeze_top}")
        self.epochs = self.head_epochs + self.finetune_epochs
        self.learning_rate = self.head_learning_rate
        self.augmentation = tuple(self.augmentation)
        self.model_config = {
            "weights": self.weights,
            "image_size": self.image_size,
            "augmentation": self.augmentation,
            "dropout": self.dropout,
            **self.model_config,
        }
        super().__post_init__()


def _check_positive(config: TrainConfig, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer. Received: {name}={value}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}. Received: {name}={value!r}")


def field_names(config_class: type = TrainConfig) -> list[str]:
    return [f.name for f in dataclasses.fields(config_class)]


def read_config_file(path: str | Path, config_class: type = TrainConfig) -> dict[str, Any]:
    """A YAML mapping of TrainConfig fields; unknown keys are refused, naming the valid ones."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {path}{where} is not valid YAML: {getattr(error, 'problem', error)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings, got {type(data).__name__}")
    valid = field_names(config_class)
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; valid settings: {', '.join(valid)}"
        )
    return data


def make_config(file_values: dict[str, Any], overrides: dict[str, Any], config_class: type = TrainConfig) -> TrainConfig:
    """Defaults, then the file's values, then explicitly given flags (None means not given)."""
    values = {**file_values, **{k: v for k, v in overrides.items() if v is not None}}
    for required in ("model", "dataset"):
        if not values.get(required):
            raise ConfigError(f"no {required} given: pass it on the command line or set `{required}:` in --config")
    try:
        return config_class(**values)
    except TypeError as error:  # a wrong type in YAML, e.g. a list for epochs
        raise ConfigError(f"invalid configuration: {error}") from None
