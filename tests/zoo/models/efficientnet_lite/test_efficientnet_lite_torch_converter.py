"""Porting the reference PyTorch state_dict into the Keras EfficientNet-Lite0, tensor by tensor."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.models.efficientnet_lite import EfficientNetLite0
from zoo.models.efficientnet_lite.efficientnet_lite_torch_converter import port_lite0_weights

NUM_BATCH_NORMS = 49
CLASSIFIER_PARAMETERS = 1280 * 1000 + 1000


@pytest.fixture(scope="module")
def ported_with_top(lite0_state_dict):
    model = EfficientNetLite0(include_top=True, weights=None)
    return model, port_lite0_weights(model, lite0_state_dict, include_top=True)


@pytest.fixture(scope="module")
def model_without_top():
    return EfficientNetLite0(include_top=False, weights=None)


def test_every_source_parameter_is_mapped_with_the_top(ported_with_top):
    model, report = ported_with_top

    assert report.mapped_parameters == 4_694_024 == model.count_params()
    assert len(report.skipped_tensors) == NUM_BATCH_NORMS
    assert all(name.endswith(".num_batches_tracked") for name in report.skipped_tensors)


def test_without_the_top_everything_but_the_classifier_is_mapped(lite0_state_dict, model_without_top):
    report = port_lite0_weights(model_without_top, lite0_state_dict, include_top=False)

    assert report.mapped_parameters == 4_694_024 - CLASSIFIER_PARAMETERS == model_without_top.count_params()
    assert {"_fc.weight", "_fc.bias"} <= set(report.skipped_tensors)
    assert len(report.skipped_tensors) == NUM_BATCH_NORMS + 2


def test_conv_kernels_equal_the_source_after_the_oihw_to_hwio_transpose(ported_with_top, lite0_state_dict):
    model, _ = ported_with_top

    stem = model.get_layer("stem_conv").get_weights()[0]
    expand = model.get_layer("block6b_expand_conv").get_weights()[0]

    np.testing.assert_array_equal(stem, lite0_state_dict["_conv_stem.weight"].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(expand, lite0_state_dict["_blocks.12._expand_conv.weight"].transpose(2, 3, 1, 0))
    assert stem.shape == (3, 3, 3, 32)


def test_depthwise_kernel_equals_the_source_after_transpose(ported_with_top, lite0_state_dict):
    model, _ = ported_with_top

    kernel = model.get_layer("block3a_dwconv").get_weights()[0]

    source = lite0_state_dict["_blocks.3._depthwise_conv.weight"]
    assert source.shape == (144, 1, 5, 5) and kernel.shape == (5, 5, 144, 1)
    np.testing.assert_array_equal(kernel, source.transpose(2, 3, 0, 1))


def test_batch_norm_and_classifier_weights_land_in_keras_order(ported_with_top, lite0_state_dict):
    model, _ = ported_with_top

    gamma, beta, mean, variance = model.get_layer("block7a_project_bn").get_weights()
    kernel, bias = model.get_layer("predictions").get_weights()

    np.testing.assert_array_equal(gamma, lite0_state_dict["_blocks.15._bn2.weight"])
    np.testing.assert_array_equal(beta, lite0_state_dict["_blocks.15._bn2.bias"])
    np.testing.assert_array_equal(mean, lite0_state_dict["_blocks.15._bn2.running_mean"])
    np.testing.assert_array_equal(variance, lite0_state_dict["_blocks.15._bn2.running_var"])
    np.testing.assert_array_equal(kernel, lite0_state_dict["_fc.weight"].T)
    np.testing.assert_array_equal(bias, lite0_state_dict["_fc.bias"])


def test_wrong_source_shape_fails_naming_the_tensor(lite0_state_dict, model_without_top):
    state_dict = dict(lite0_state_dict)
    state_dict["_blocks.4._project_conv.weight"] = np.zeros((40, 144, 3, 3), np.float32)

    with pytest.raises(ValueError, match=r"shape mismatch for _blocks\.4\._project_conv\.\* -> block3b_project_conv"):
        port_lite0_weights(model_without_top, state_dict, include_top=False)


def test_source_tensor_without_a_place_fails_naming_it(lite0_state_dict, model_without_top):
    state_dict = dict(lite0_state_dict)
    state_dict["_blocks.5._se_reduce.weight"] = np.zeros((10, 240, 1, 1), np.float32)

    with pytest.raises(ValueError, match=r"no place in the Keras model: \['_blocks\.5\._se_reduce\.weight'\]"):
        port_lite0_weights(model_without_top, state_dict, include_top=False)


def test_missing_source_tensor_fails_naming_it(lite0_state_dict, model_without_top):
    state_dict = dict(lite0_state_dict)
    del state_dict["_bn1.running_var"]

    with pytest.raises(ValueError, match=r"lacks \['_bn1\.running_var'\] needed for Keras layer 'top_bn'"):
        port_lite0_weights(model_without_top, state_dict, include_top=False)


def test_keras_layer_left_unfilled_fails_naming_it(lite0_state_dict):
    model = EfficientNetLite0(include_top=True, weights=None)
    without_classifier = {k: v for k, v in lite0_state_dict.items() if not k.startswith("_fc.")}

    with pytest.raises(ValueError, match=r"received no weights: \['predictions'\]"):
        port_lite0_weights(model, without_classifier, include_top=False)


def test_a_failed_port_leaves_the_model_unchanged(lite0_state_dict):
    model = EfficientNetLite0(include_top=False, weights=None, input_shape=(32, 32, 3))
    initial = [w.copy() for w in model.get_weights()]
    state_dict = dict(lite0_state_dict)
    state_dict["_bn1.weight"] = np.zeros(7, np.float32)  # the last layer mapped is wrong

    with pytest.raises(ValueError, match="top_bn"):
        port_lite0_weights(model, state_dict, include_top=False)
    for before, after in zip(initial, model.get_weights()):
        np.testing.assert_array_equal(after, before)
