"""`zoo train` and `zoo evaluate`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from zoo.cli.parser import comma_list, fraction, non_negative_int, positive_float, positive_int
from zoo.cli.recipes import add_recipe_argument, config_file_from_args
from zoo.errors import ConfigError
from zoo.spec import INPUT_FORMS
from zoo.train.config import OPTIMIZERS, SCHEDULES, STRATEGIES, FinetuneConfig, default_and_why


def add_parsers(subparsers) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a zoo model on a dataset, then evaluate and export it",
        description="Train MODEL on a dataset under a tf.distribute strategy. Checkpoints, "
        "TensorBoard logs, a crash-recovery backup and metrics.json go to --workdir; with "
        "--export-base the model is exported as a SavedModel to EXPORT_BASE/NAME/VERSION/. "
        "Settings come from the defaults, then --config FILE.yaml, then the flags given.",
    )
    train.add_argument("model", nargs="?", help="registered model name (see `zoo models`)")
    train.add_argument("--epochs", type=positive_int)
    train.add_argument("--learning-rate", type=positive_float)
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule over the whole run")
    add_common_arguments(train)
    train.set_defaults(handler=run_train, uses_tensorflow=True)

    finetune = subparsers.add_parser(
        "finetune",
        help="fine-tune a pretrained backbone on a dataset in two phases, then export it",
        description="Phase 1 trains a new head on the frozen BACKBONE at --head-learning-rate; "
        "phase 2 unfreezes the top blocks (--unfreeze-top K or --unfreeze-from LAYER) and "
        "continues at --finetune-learning-rate with BatchNormalization kept in inference mode "
        "(a small dataset's batch statistics would wreck the ImageNet ones). Each default below "
        "says why it was chosen; together they are the tuned efficientnet_lite0_fashion_mnist "
        "recipe's settings. Images are resized and given three channels inside the model, so the "
        "export takes the dataset's raw images. Same workdir, strategy, checkpoint and export "
        "options as `zoo train`.",
    )

    def why(name: str) -> str:
        return default_and_why(FinetuneConfig, name).replace("%", "%%")

    finetune.add_argument("model", nargs="?", metavar="BACKBONE",
                          help="a transfer model, e.g. efficientnet_lite0, mobilenet_v2, resnet50")
    finetune.add_argument("--weights", help=f"imagenet, none, or a local .weights.h5/.h5/.keras file. {why('weights')}")
    finetune.add_argument("--image-size", type=positive_int, help=f"side the images are resized to. {why('image_size')}")
    finetune.add_argument("--head-epochs", type=non_negative_int, help=f"epochs of phase 1. {why('head_epochs')}")
    finetune.add_argument("--finetune-epochs", type=non_negative_int,
                          help=f"epochs of phase 2. {why('finetune_epochs')}")
    which = finetune.add_mutually_exclusive_group()
    which.add_argument("--unfreeze-top", type=non_negative_int, metavar="K",
                       help=f"unfreeze the top K blocks in phase 2. {why('unfreeze_top')}")
    which.add_argument("--unfreeze-from", metavar="LAYER", help="unfreeze every backbone layer from LAYER on")
    finetune.add_argument("--head-learning-rate", type=positive_float,
                          help=f"learning rate of phase 1. {why('head_learning_rate')}")
    finetune.add_argument("--finetune-learning-rate", type=positive_float,
                          help=f"learning rate of phase 2. {why('finetune_learning_rate')}")
    finetune.add_argument("--augment", dest="augmentation", type=comma_list, metavar="flip,rotation,zoom",
                          help="augmentation layers, active only in training")
    finetune.add_argument("--optimizer", choices=OPTIMIZERS)
    finetune.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule within each phase")
    add_common_arguments(finetune)
    finetune.set_defaults(handler=run_finetune, uses_tensorflow=True)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="score a training workdir or an exported SavedModel on a dataset's test split",
        description="Evaluate WORKDIR (its model.keras) or a SavedModel version directory on the "
        "test split of --dataset, and print the metrics as JSON.",
    )
    evaluate.add_argument("path", help="a training workdir or a SavedModel version directory")
    evaluate.add_argument("--dataset", required=True)
    evaluate.add_argument("--data-dir")
    evaluate.add_argument("--target")
    evaluate.add_argument("--seed", type=int, default=0, help="must match training for user datasets split at random")
    evaluate.set_defaults(handler=run_evaluate, uses_tensorflow=True)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="dataset name (see `zoo datasets`) or folder:/csv:/npz:PATH")
    parser.add_argument("--config", metavar="FILE.yaml", help="YAML file of settings (a recipe)")
    add_recipe_argument(parser)
    parser.add_argument("--batch-size", type=positive_int, help="global batch size (split across replicas)")
    parser.add_argument("--strategy", choices=STRATEGIES, help="tf.distribute strategy (default: auto)")
    parser.add_argument("--num-devices", type=positive_int, help="logical CPU devices for --strategy mirrored")
    parser.add_argument("--tpu", help="TPU name or grpc:// address for --strategy tpu")
    parser.add_argument("--mixed-precision", action="store_true", default=None,
                        help="bfloat16 on CPU/TPU, float16 on GPU")
    parser.add_argument("--jit-compile", action="store_true", default=None,
                        help="compile the train step with XLA (faster on GPUs and TPUs, slower on a CPU)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--early-stopping", dest="early_stopping_patience", type=int, metavar="PATIENCE")
    parser.add_argument("--validation-fraction", type=fraction)
    sample = parser.add_mutually_exclusive_group()
    sample.add_argument("--train-examples", type=positive_int, help="train on only this many examples")
    sample.add_argument("--train-fraction", type=fraction, help="train on only this fraction of the examples")
    parser.add_argument("--data-dir", help="directory holding the dataset's files")
    parser.add_argument("--target", help="csv: the target column")
    parser.add_argument("--workdir", help="where checkpoints, logs and metrics go (default runs/MODEL-DATASET)")
    parser.add_argument("--export-base", help="export a SavedModel to EXPORT_BASE/NAME/<next version>/")
    parser.add_argument("--export-name", help="model name under --export-base (default: the model name)")
    parser.add_argument("--export-tflite", action="store_true", default=None,
                        help="also write model.tflite (TF Lite, predict signatures) into the exported version")
    parser.add_argument("--input", dest="export_input", choices=INPUT_FORMS,
                        help="what the export's serving_default takes (image data): decoded pixels (default) "
                        "or encoded JPEG/PNG files, decoded inside the graph; the export has both signatures")
    parser.add_argument("--set", dest="model_config", action="append", default=[], metavar="KEY=VALUE",
                        help="override a model setting, e.g. --set hidden_units=[512,256] (YAML values)")
    parser.add_argument("--dataset-option", dest="dataset_options", action="append", default=[],
                        metavar="KEY=VALUE", help="a dataset loader option, e.g. --dataset-option window=52")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), help="Keras verbosity (default: bar on a terminal)")


def parse_assignments(items: list[str], flag: str) -> dict:
    values = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} takes KEY=VALUE. Received: {item!r}")
        try:
            values[key] = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ConfigError(f"{flag} {key}: value {raw!r} is not valid YAML") from None
    return values


def config_from_args(args: argparse.Namespace, config_class):
    """Defaults, then --config's values, then the flags given on the command line."""
    from zoo.train import make_config, read_config_file

    config_file = config_file_from_args(args)
    file_values = read_config_file(config_file, config_class) if config_file else {}
    overrides = {
        key: value
        for key, value in vars(args).items()
        if key not in {"config", "recipe", "handler", "command", "uses_tensorflow", "tensorflow_logs",
                       "model_config", "dataset_options"}
    }
    model_config = {**file_values.get("model_config", {}), **parse_assignments(args.model_config, "--set")}
    dataset_options = {
        **file_values.get("dataset_options", {}),
        **parse_assignments(args.dataset_options, "--dataset-option"),
    }
    return make_config(
        file_values, {**overrides, "model_config": model_config, "dataset_options": dataset_options}, config_class
    )


def run_train(args: argparse.Namespace) -> int:
    from zoo.train import TrainConfig
    from zoo.train.trainer import train

    if is_idle_evaluator():
        return 0
    return report(train(config_from_args(args, TrainConfig)))


def run_finetune(args: argparse.Namespace) -> int:
    from zoo.train.finetune import finetune

    if is_idle_evaluator():
        return 0
    return report(finetune(config_from_args(args, FinetuneConfig)))


def is_idle_evaluator() -> bool:
    """A TFJob's Evaluator replica runs the trainers' command too. Training here evaluates on the
    chief when it ends (metrics.json, the model card), so the evaluator says so and succeeds
    rather than training a model of its own."""
    from zoo.train.tf_config import cluster_role

    role = cluster_role()
    if role is None or not role.is_evaluator:
        return False
    print("TF_CONFIG makes this task the evaluator: the chief evaluates on the test split when "
          "training ends (metrics.json, model card), so this task has nothing to do", flush=True)
    return True


def report(result) -> int:
    print()
    print(result.summary_table())
    print(f"\nworkdir: {result.workdir}  (TensorBoard: tensorboard --logdir {result.workdir / 'logs'})")
    if result.export_dir:
        print(f"exported: {result.export_dir}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from zoo.data import load_dataset

    path = Path(args.path)
    dataset = load_dataset(args.dataset, data_dir=args.data_dir, target=args.target, seed=args.seed)
    if (path / "saved_model.pb").exists():
        from zoo.train.trainer import evaluate_saved_model

        metrics = evaluate_saved_model(path, dataset)
    elif (path / "model.keras").exists():
        metrics = _evaluate_keras(path / "model.keras", dataset)
    else:
        raise ConfigError(f"{path} is neither a SavedModel directory nor a training workdir (no model.keras)")
    print(json.dumps({"path": str(path), "dataset": args.dataset, **metrics}, indent=2))
    return 0


def _evaluate_keras(model_file: Path, dataset) -> dict:
    import keras

    import zoo.models  # noqa: F401 - registers the zoo's custom layers for deserialisation
    from zoo.train.trainer import score_predictions

    model = keras.models.load_model(model_file)
    predictions = model.predict(dataset.x_test, batch_size=256, verbose=0)
    return score_predictions(dataset.spec.is_classification, predictions, dataset.y_test)
