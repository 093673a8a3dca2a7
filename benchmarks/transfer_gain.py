"""What do ImageNet weights buy on a small labelled budget? Measured, not asserted.

    python benchmarks/transfer_gain.py                      # 1000 training images, 10 epochs each
    python benchmarks/transfer_gain.py --train-examples 500 --epochs 6 --output gain.json

Fashion-MNIST (Debian's dataset-fashion-mnist), the same fixed draw of N training images for
every arm, scored on the full 10,000-image test set after the same number of epochs:
  (a) EfficientNet-Lite0 with ImageNet weights, fine-tuned by `zoo.train.finetune` (the first
      --head-epochs train a new head on the frozen backbone, the rest also the top blocks at a
      lower rate: the settings of the zoo's efficientnet_lite0_fashion_mnist recipe);
  (b) the same EfficientNet-Lite0 architecture from random weights, everything trained;
  (c) the zoo's small CNN from scratch.
Prints a table of test accuracy and wall time and writes it as JSON. No early stopping: each arm
runs its whole epoch budget. The validation split (monitoring only) is kept small because every
epoch scores it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATASET = "fashion_mnist"


@dataclasses.dataclass(frozen=True)
class Arm:
    name: str
    description: str
    run: Callable[[argparse.Namespace, str], Any]  # (settings, workdir) -> TrainResult


def _common(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    return {"dataset": DATASET, "train_examples": args.train_examples, "batch_size": args.batch_size,
            "validation_fraction": args.validation_fraction, "seed": args.seed, "strategy": "default",
            "schedule": "cosine", "workdir": workdir, "verbose": args.verbose}


def finetuned_lite0(args: argparse.Namespace, workdir: str):
    from zoo.train.finetune import FinetuneConfig, finetune

    return finetune(FinetuneConfig(
        model="efficientnet_lite0", weights="imagenet", image_size=args.image_size,
        head_epochs=args.head_epochs, finetune_epochs=args.epochs - args.head_epochs, unfreeze_top=args.unfreeze_top,
        head_learning_rate=args.learning_rate, finetune_learning_rate=args.finetune_learning_rate,
        **_common(args, workdir),
    ))


def scratch_lite0(args: argparse.Namespace, workdir: str):
    from zoo.train import TrainConfig
    from zoo.train.trainer import train

    return train(TrainConfig(model="efficientnet_lite0", epochs=args.epochs, learning_rate=args.learning_rate,
                             model_config={"weights": "none", "image_size": args.image_size},
                             **_common(args, workdir)))


def scratch_cnn(args: argparse.Namespace, workdir: str):
    from zoo.train import TrainConfig
    from zoo.train.trainer import train

    return train(TrainConfig(model="cnn", epochs=args.epochs, learning_rate=args.learning_rate,
                             **_common(args, workdir)))


ARMS = (
    Arm("lite0_imagenet_finetuned", "EfficientNet-Lite0, ImageNet weights, fine-tuned", finetuned_lite0),
    Arm("lite0_scratch", "EfficientNet-Lite0, random init, trained from scratch", scratch_lite0),
    Arm("cnn_scratch", "zoo small CNN, trained from scratch", scratch_cnn),
)


def run_arm(arm: Arm, args: argparse.Namespace) -> dict[str, Any]:
    import keras

    print(f"== {arm.name}: {arm.description}", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"transfer-gain-{arm.name}-") as workdir:
        result = arm.run(args, workdir)
    row = {
        "arm": arm.name,
        "description": arm.description,
        "test_accuracy": result.test_metrics["accuracy"],
        "test_examples": len(result.dataset.x_test),
        "train_examples": len(result.dataset.x_train),
        "epochs": result.epochs_run,
        "train_seconds": result.wall_seconds,
        "total_seconds": time.perf_counter() - started,
        "parameters": int(result.model.count_params()),
    }
    del result
    keras.backend.clear_session()
    gc.collect()
    print(f"   test accuracy {row['test_accuracy']:.4f}, {row['train_seconds']:.0f} s training", flush=True)
    return row


def format_rows(rows: list[dict[str, Any]]) -> str:
    from zoo.tables import format_table

    return format_table(
        ["arm", "test accuracy", "train s", "total s", "parameters"],
        [[row["arm"], round(row["test_accuracy"], 4), round(row["train_seconds"], 1),
          round(row["total_seconds"], 1), row["parameters"]] for row in rows],
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-examples", type=int, default=1000, help="labelled training images (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per arm, the same for all (default: %(default)s)")
    parser.add_argument("--image-size", type=int, default=64, help="Lite0 input side, both arms (default: %(default)s)")
    parser.add_argument("--head-epochs", type=int, default=2,
                        help="of --epochs, those the fine-tuned arm trains its head only (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32, help="default: %(default)s")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="from-scratch rate, and the fine-tuned head's (default: %(default)s)")
    parser.add_argument("--finetune-learning-rate", type=float, default=3e-4,
                        help="phase 2 of the fine-tuned arm (default: %(default)s)")
    parser.add_argument("--unfreeze-top", type=int, default=5, help="blocks unfrozen in phase 2 (default: %(default)s)")
    parser.add_argument("--validation-fraction", type=float, default=0.02,
                        help="of the 60,000 training images, held out for monitoring (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", type=lambda text: text.split(","), default=[arm.name for arm in ARMS],
                        help=f"comma-separated subset of {', '.join(arm.name for arm in ARMS)}")
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "transfer_gain.json", help="JSON results file")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras verbosity")
    args = parser.parse_args(argv)
    for name in ("train_examples", "epochs", "image_size", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer. Received: {getattr(args, name)}")
    if not 1 <= args.head_epochs < args.epochs:
        parser.error(f"--head-epochs must be at least 1 and less than --epochs ({args.epochs}): the fine-tuned "
                     f"arm needs both phases. Received: {args.head_epochs}")
    unknown = sorted(set(args.arms) - {arm.name for arm in ARMS})
    if unknown:
        parser.error(f"unknown arm(s) {', '.join(unknown)}; valid: {', '.join(arm.name for arm in ARMS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_start = os.getloadavg()
    rows = [run_arm(arm, args) for arm in ARMS if arm.name in args.arms]
    report = {
        "dataset": DATASET,
        "settings": {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()},
        "load_average_start": [round(value, 2) for value in load_start],
        "load_average_end": [round(value, 2) for value in os.getloadavg()],
        "cores": os.cpu_count(),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "results": rows,
    }
    print()
    print(f"Fashion-MNIST, {args.train_examples} training images, {args.epochs} epochs each, "
          f"full test set ({rows[0]['test_examples'] if rows else 0} images):")
    print(format_rows(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
