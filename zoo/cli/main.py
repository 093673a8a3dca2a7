"""`zoo`: the model zoo's command line. Each subcommand lives in its own module."""

from __future__ import annotations

import logging
import os
import sys

from serving.tensorflow_startup import DEFAULT_LOG_LEVEL, LOG_LEVEL_VARIABLE, find_devices
from zoo.cli import bench, catalog, export, launch, predict, recipes, replay, train
from zoo.cli.parser import OneLineParser
from zoo.errors import ZooError


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="zoo",
        description="tfzoo: train, fine-tune, export and query TensorFlow/Keras models.",
    )
    from zoo import __version__

    parser.add_argument("--version", action="version", version=f"tfzoo {__version__}")
    parser.add_argument("--verbose", dest="tensorflow_logs", action="store_true",
                        help="show TensorFlow's own C++ logs (start-up notices, device probing), as "
                        f"{LOG_LEVEL_VARIABLE}=0 does; they are hidden by default")
    # Commands that import TensorFlow set it; the others (datasets, recipes, launch) start at once.
    parser.set_defaults(uses_tensorflow=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    subparsers.required = True
    catalog.add_parsers(subparsers)
    train.add_parsers(subparsers)
    export.add_parsers(subparsers)
    predict.add_parsers(subparsers)
    bench.add_parsers(subparsers)
    replay.add_parsers(subparsers)
    launch.add_parsers(subparsers)
    recipes.add_parsers(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Also for the processes a command starts (`zoo launch` workers, `zoo bench` load generators).
    if args.tensorflow_logs:
        os.environ[LOG_LEVEL_VARIABLE] = "0"
    os.environ.setdefault(LOG_LEVEL_VARIABLE, DEFAULT_LOG_LEVEL)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.uses_tensorflow:
        find_devices()  # imports TensorFlow and probes its devices first, dropping its C++ start-up lines
    try:
        return args.handler(args)
    except ZooError as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zoo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
