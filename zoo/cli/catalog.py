"""`zoo models` and `zoo datasets`: what the zoo has, as tables."""

from __future__ import annotations

import argparse

from zoo.tables import format_table


def add_parsers(subparsers) -> None:
    models = subparsers.add_parser(
        "models",
        help="list the registered models",
        description="List every registered model: its family, its task, its parameter count "
        "at the family's default input shape (built on the fly, so this takes a few seconds), and "
        "which of its ImageNet weights load here without a network right now: the classifier "
        "(`zoo export`) and the backbone (`zoo finetune`).",
    )
    models.set_defaults(handler=run_models, uses_tensorflow=True)

    datasets = subparsers.add_parser(
        "datasets",
        help="list the datasets and whether each is available offline now",
        description="List every dataset: kind, task, where it comes from, and whether it can be "
        "loaded right now without a network (and if not, why).",
    )
    datasets.add_argument("--data-dir", help="also look for dataset files in this directory")
    datasets.set_defaults(handler=run_datasets)


def run_models(args: argparse.Namespace) -> int:
    import keras

    from zoo.models import MODELS, build_model
    from zoo.models.imagenet_classifier import offline_availability
    from zoo.models.transfer import keras_weights_cache

    rows = []
    for name, entry in MODELS.items():
        spec = entry.default_spec()
        # Built without pretrained weights: counting parameters needs none, nor a network.
        model = build_model(name, spec, {"weights": "none"} if entry.family == "transfer" else None)
        shape = "x".join(str(d) for d in spec.input_shape) or "scalar"
        rows.append([name, entry.family, entry.description, shape, model.count_params(),
                     offline_availability(name)])
        keras.backend.clear_session()
    print(format_table(["model", "family", "task", "default input", "parameters", "ImageNet weights offline"],
                       rows))
    print(f"\nImageNet weights not listed as offline are downloaded into {keras_weights_cache()} by the first "
          "online `zoo export` or `zoo finetune` (or copy Keras' files there)")
    return 0


def run_datasets(args: argparse.Namespace) -> int:
    from zoo.data import DATASETS

    rows = []
    for info in DATASETS.values():
        available, where = info.availability(data_dir=args.data_dir)
        rows.append([info.name, info.kind, info.task, "yes" if available else "no", where])
    print(format_table(["dataset", "kind", "task", "offline now", "source / how to get it"], rows))
    print("\nUser data: folder:PATH (class sub-folders of images), csv:PATH --target COLUMN, npz:PATH")
    return 0
