"""Two recipes run end to end through the CLI on tiny settings (the recipe's own model and
optimizer settings, with epochs, examples and image size overridden from the command line)."""

from __future__ import annotations

import json

import pytest

from zoo.cli.main import main
from zoo.recipes import get_recipe


@pytest.mark.slow
def test_a_train_recipe_runs_end_to_end_and_exports(tmp_path):
    code = main(["train", "--recipe", "cnn_digits", "--epochs", "1", "--train-examples", "64",
                 "--workdir", str(tmp_path / "run"), "--export-base", str(tmp_path / "export"), "--verbose", "0"])
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test"]["accuracy"] <= 1.0
    assert metrics["config"]["model_config"] == get_recipe("cnn_digits").settings["model_config"]
    assert (tmp_path / "export" / "cnn" / "1" / "saved_model.pb").exists()


@pytest.mark.slow
def test_a_finetune_recipe_runs_both_phases_end_to_end(tmp_path):
    # The Lite0 recipe on digits at 32x32 (flags override the recipe's dataset and image size):
    # the same two phases and ImageNet weights, on 32 examples and a 360-image test split.
    code = main(["finetune", "--recipe", "efficientnet_lite0_fashion_mnist", "--dataset", "digits",
                 "--image-size", "32", "--head-epochs", "1", "--finetune-epochs", "1", "--train-examples", "32",
                 "--batch-size", "16", "--workdir", str(tmp_path / "run"), "--verbose", "0"])
    assert code == 0
    recipe = json.loads((tmp_path / "run" / "finetune_recipe.json").read_text())
    settings = get_recipe("efficientnet_lite0_fashion_mnist").settings
    assert recipe["phase2"]["learning_rate"] == settings["finetune_learning_rate"]
    assert len(recipe["phase2"]["unfrozen"]) == settings["unfreeze_top"]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["config"]["weights"] == "imagenet"
