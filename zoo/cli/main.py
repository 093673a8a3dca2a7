"""`zoo`: the model zoo's command line. Each subcommand lives in its own module."""

from __future__ import annotations

import logging
import os
import sys

from zoo.cli import bench, catalog, launch, predict, recipes, replay, train
from zoo.cli.parser import OneLineParser
from zoo.errors import ZooError


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="zoo",
        description="tfzoo: train, fine-tune, export and query TensorFlow/Keras models.",
    )
    from zoo import __version__

    parser.add_argument("--version", action="version", version=f"tfzoo {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    subparsers.required = True
    catalog.add_parsers(subparsers)
    train.add_parsers(subparsers)
    predict.add_parsers(subparsers)
    bench.add_parsers(subparsers)
    replay.add_parsers(subparsers)
    launch.add_parsers(subparsers)
    recipes.add_parsers(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
