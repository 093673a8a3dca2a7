"""`zoo recipes`, and `--recipe NAME` on `zoo train` / `zoo finetune`.

A recipe is a packaged YAML file of settings (zoo/recipes/NAME.yaml); `--recipe NAME` is
`--config` with that file, so flags given on the command line still override it.
"""

from __future__ import annotations

import argparse

from zoo.errors import ConfigError
from zoo.tables import format_table


def add_parsers(subparsers) -> None:
    recipes = subparsers.add_parser(
        "recipes",
        help="list the packaged training recipes and the command that runs each",
        description="List the zoo's recipes: tuned settings for one model on one dataset, each "
        "run by `zoo train --recipe NAME` or `zoo finetune --recipe NAME` (flags given after it "
        "override the recipe). The files live in the installed package's zoo/recipes/ folder and "
        "also work as `--config FILE`.",
    )
    recipes.add_argument("--paths", action="store_true", help="also show each recipe's file")
    recipes.set_defaults(handler=run_recipes)


def add_recipe_argument(parser: argparse.ArgumentParser) -> None:
    """`--recipe NAME` for `zoo train` and `zoo finetune`."""
    parser.add_argument("--recipe", metavar="NAME",
                        help="a packaged recipe (see `zoo recipes`); like --config with its file")


def config_file_from_args(args: argparse.Namespace) -> str | None:
    """The YAML file to read settings from: --config FILE, or the file of --recipe NAME.

    A recipe meant for the other command is refused with the command that runs it.
    """
    recipe_name = getattr(args, "recipe", None)
    if recipe_name is None:
        return args.config
    if args.config:
        raise ConfigError(f"give --config or --recipe, not both. Received: --config {args.config} --recipe {recipe_name}")
    from zoo.recipes import get_recipe

    recipe = get_recipe(recipe_name)
    if recipe.command != args.command:
        raise ConfigError(f"recipe {recipe.name} is a `zoo {recipe.command}` recipe: run {recipe.command_line}")
    return str(recipe.path)


def run_recipes(args: argparse.Namespace) -> int:
    from zoo.recipes import all_recipes

    headers = ["recipe", "model", "dataset", "command"] + (["file"] if args.paths else [])
    rows = [
        [recipe.name, recipe.model, recipe.dataset, recipe.command_line] + ([str(recipe.path)] if args.paths else [])
        for recipe in all_recipes()
    ]
    print(format_table(headers, rows))
    print("\nFlags after the recipe override it, e.g. zoo train --recipe cnn_digits --epochs 5")
    return 0
