"""`zoo models` and `zoo datasets`: what the zoo has, as tables."""

from __future__ import annotations

import argparse

from zoo.tables import format_table


def add_parsers(subparsers) -> None:
    models = subparsers.add_parser(
        "models",
        help="list the registered models",
        description="List every registered model: its family, its task and its parameter count "
        "at the family's default input shape (built on the fly, so this takes a few seconds).",
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

    rows = []
    for name, entry in MODELS.items():
        spec = entry.default_spec()
        model = build_model(name, spec)
        shape = "x".join(str(d) for d in spec.input_shape) or "scalar"
        rows.append([name, entry.family, entry.description, shape, model.count_params()])
        keras.backend.clear_session()
    print(format_table(["model", "family", "task", "default input", "parameters"], rows))
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
