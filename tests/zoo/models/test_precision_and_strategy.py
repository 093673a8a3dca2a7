"""Every family under the conditions the trainer creates: mixed precision and tf.distribute scopes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models import build_model

# (model, spec, config): one of each family, plus the text path.
FAMILY_CASES = [
    ("mlp", "tabular_regression", {"hidden_units": [8]}),
    ("cnn", "digits", {"filters": [4, 8], "dense_units": 8}),
    ("gru", "grayscale", {"units": 8}),
    ("bilstm", "text", {"units": 8, "embedding_dim": 8, "sequence_length": 6}),
    ("mobilenet_v3_small", "grayscale", {"image_size": 32}),
]
CASE_IDS = [f"{name}-{spec}" for name, spec, _ in FAMILY_CASES]
# A transfer model trains eagerly (tracing its graph costs far more than one step), and eagerly
# under a strategy it still takes several seconds.
STRATEGY_CASES = [
    pytest.param(*case, id=case_id, marks=[pytest.mark.slow] if case[0] == "mobilenet_v3_small" else [])
    for case, case_id in zip(FAMILY_CASES, CASE_IDS)
]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name, spec_name, config", FAMILY_CASES, ids=CASE_IDS)
def test_mixed_precision_models_still_output_float32(
    policy, name, spec_name, config, specs, examples, global_policy
):
    global_policy(policy)
    spec = specs[spec_name]
    x, _ = examples(spec, count=2)
    model = build_model(name, spec, config, adapt_data=x)
    compute_dtypes = {layer.compute_dtype for layer in model.layers if layer.trainable_weights}
    assert policy.removeprefix("mixed_") in compute_dtypes  # the policy really applies
    assert model.output.dtype == "float32"
    outputs = keras.ops.convert_to_numpy(model(x, training=False))
    assert outputs.dtype == np.float32 and np.isfinite(outputs).all()


def test_mixed_float16_model_trains_one_step(specs, examples, fit_one_step, global_policy):
    global_policy("mixed_float16")
    spec = specs["digits"]
    x, y = examples(spec)
    model = build_model("cnn", spec, {"filters": [4, 8], "dense_units": 8}, adapt_data=x)
    assert np.isfinite(fit_one_step(model, spec, x, y))


@pytest.mark.parametrize("name, spec_name, config", STRATEGY_CASES)
def test_models_build_and_train_inside_a_mirrored_strategy_scope(name, spec_name, config, specs, examples):
    spec = specs[spec_name]
    x, y = examples(spec)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = build_model(name, spec, config, adapt_data=x)
        loss = "sparse_categorical_crossentropy" if spec.is_classification else "mse"
        model.compile(optimizer="adam", loss=loss, run_eagerly=name == "mobilenet_v3_small")
    history = model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
