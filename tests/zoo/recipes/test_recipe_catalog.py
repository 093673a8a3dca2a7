"""Every packaged recipe parses into its command's config and builds its model; `zoo recipes`
lists them; `--recipe NAME` resolves one, flags override it, and mistakes get one clear line."""

from __future__ import annotations

import keras
import pytest

from zoo.cli.main import build_parser, main
from zoo.cli.train import config_from_args
from zoo.data import DATASETS
from zoo.errors import UnknownNameError
from zoo.models import build_model
from zoo.recipes import RECIPE_DIR, get_recipe, recipe_names
from zoo.train import TrainConfig
from zoo.train.finetune import FinetuneConfig

# The minimum: MLP and CNN on Fashion-MNIST and digits, an RNN on Fashion-MNIST rows and on
# a time series, Lite0 (ImageNet) and MobileNetV2 (from scratch) on Fashion-MNIST, MLP on breast_cancer.
REQUIRED = {
    "mlp_fashion_mnist", "cnn_fashion_mnist", "mlp_digits", "cnn_digits", "lstm_fashion_mnist", "gru_co2",
    "efficientnet_lite0_fashion_mnist", "mobilenet_v2_fashion_mnist", "mlp_breast_cancer",
}


def test_the_zoo_ships_the_required_recipes():
    assert REQUIRED <= set(recipe_names())


@pytest.mark.parametrize("name", recipe_names())
def test_recipe_is_named_after_its_model_and_dataset(name):
    recipe = get_recipe(name)
    assert name == f"{recipe.model}_{recipe.dataset}"
    assert recipe.dataset in DATASETS


@pytest.mark.parametrize("name", recipe_names())
def test_recipe_parses_into_its_commands_config(name, tmp_path):
    recipe = get_recipe(name)
    config = recipe.make_config(workdir=str(tmp_path))
    expected = FinetuneConfig if recipe.command == "finetune" else TrainConfig
    assert type(config) is expected
    assert (config.model, config.dataset) == (recipe.model, recipe.dataset)


@pytest.mark.slow  # builds two ImageNet-sized backbones (Fashion-MNIST's spec needs no data)
@pytest.mark.parametrize("name", recipe_names())
def test_recipe_builds_its_model(name, tmp_path, dataset_spec):
    config = get_recipe(name).make_config(workdir=str(tmp_path))
    model = build_model(config.model, dataset_spec(config), config.model_config)
    assert model.count_params() > 0
    keras.backend.clear_session()


def test_lite0_recipe_starts_from_imagenet_weights_and_mobilenet_from_scratch(tmp_path):
    lite0 = get_recipe("efficientnet_lite0_fashion_mnist").make_config(workdir=str(tmp_path))
    mobilenet = get_recipe("mobilenet_v2_fashion_mnist").make_config(workdir=str(tmp_path))
    assert lite0.model_config["weights"] == "imagenet"
    assert mobilenet.model_config["weights"] == "none"


def test_zoo_recipes_lists_every_recipe_with_the_command_that_runs_it(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    for name in recipe_names():
        recipe = get_recipe(name)
        assert f"{recipe.command_line}" in out
    assert "zoo finetune --recipe efficientnet_lite0_fashion_mnist" in out


def test_flags_after_a_recipe_override_it():
    args = build_parser().parse_args(["train", "--recipe", "cnn_digits", "--epochs", "2", "--set", "dropout=0.1"])
    config = config_from_args(args, TrainConfig)
    recipe = get_recipe("cnn_digits").settings
    assert config.epochs == 2 and config.batch_size == recipe["batch_size"]
    assert config.model_config == {**recipe["model_config"], "dropout": 0.1}


def test_a_recipe_file_runs_the_same_as_config():
    by_name = config_from_args(build_parser().parse_args(["train", "--recipe", "mlp_digits"]), TrainConfig)
    by_file = config_from_args(
        build_parser().parse_args(["train", "--config", str(RECIPE_DIR / "mlp_digits.yaml")]), TrainConfig
    )
    assert by_name == by_file


def test_unknown_recipe_error_names_valid_choices(capsys):
    assert main(["train", "--recipe", "cnn_imagenet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unknown recipe 'cnn_imagenet'" in err and "cnn_fashion_mnist" in err and "gru_co2" in err


def test_get_recipe_raises_unknown_name_error_for_a_path():
    with pytest.raises(UnknownNameError, match="valid recipes"):
        get_recipe("../recipes/cnn_digits")


def test_a_finetune_recipe_given_to_train_names_the_command_that_runs_it(capsys):
    assert main(["train", "--recipe", "efficientnet_lite0_fashion_mnist"]) == 2
    err = capsys.readouterr().err
    assert "run zoo finetune --recipe efficientnet_lite0_fashion_mnist" in err


def test_config_and_recipe_together_are_refused(capsys):
    assert main(["train", "--recipe", "cnn_digits", "--config", str(RECIPE_DIR / "cnn_digits.yaml")]) == 2
    assert "give --config or --recipe, not both" in capsys.readouterr().err
