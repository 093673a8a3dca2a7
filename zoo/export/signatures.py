"""The serving signatures of an exported zoo model.

`serving_default` (method tensorflow/serving/predict) takes the raw input under the dataset's
input name and returns `probabilities` and `classes` (classifiers) or `values` (regressors).
Classifiers also get `classify` and single-output regressors `regress`: both take serialized
tf.Example protos under `inputs`, so TF Serving's Classify/Regress RPCs work on them.
"""

from __future__ import annotations

import tensorflow as tf

from serving.contract import (CLASSES_OUTPUT, CLASSIFY_METHOD, DEFAULT_SIGNATURE, EXAMPLES_INPUT,
                              PREDICT_METHOD, REGRESS_METHOD, REGRESSION_OUTPUT, SCORES_OUTPUT)
from zoo.spec import DataSpec


def input_tensor_spec(spec: DataSpec) -> tf.TensorSpec:
    dtype = tf.string if spec.input_dtype == "string" else tf.float32
    return tf.TensorSpec([None, *spec.input_shape], dtype, name=spec.input_name)


def example_feature_spec(spec: DataSpec) -> dict:
    """How one tf.Example carries one input: a flat float list (reshaped) or one bytes value."""
    if spec.input_dtype == "string":
        return {spec.input_name: tf.io.FixedLenFeature([], tf.string)}
    return {spec.input_name: tf.io.FixedLenFeature(list(spec.input_shape), tf.float32)}


def build_signatures(module: tf.Module, spec: DataSpec) -> tuple[dict, dict[str, str]]:
    """Concrete functions to save, and the method name each signature must carry."""
    model = module.model

    def predict(inputs: tf.Tensor) -> dict:
        outputs = tf.cast(model(inputs, training=False), tf.float32)
        if spec.is_classification:
            return {"probabilities": outputs, "classes": tf.argmax(outputs, axis=-1)}
        return {"values": outputs}

    def parse(serialized: tf.Tensor) -> tf.Tensor:
        return tf.io.parse_example(serialized, example_feature_spec(spec))[spec.input_name]

    serving_default = tf.function(predict, input_signature=[input_tensor_spec(spec)])
    signatures = {DEFAULT_SIGNATURE: serving_default.get_concrete_function()}
    methods = {DEFAULT_SIGNATURE: PREDICT_METHOD}
    examples_spec = tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)

    if spec.is_classification:
        class_names = tf.constant(list(spec.class_names) or [str(i) for i in range(spec.num_outputs)])

        @tf.function(input_signature=[examples_spec])
        def classify(serialized):
            scores = predict(parse(serialized))["probabilities"]
            classes = tf.tile(class_names[tf.newaxis, :], [tf.shape(scores)[0], 1])
            return {CLASSES_OUTPUT: classes, SCORES_OUTPUT: scores}

        signatures["classify"] = classify.get_concrete_function()
        methods["classify"] = CLASSIFY_METHOD
    elif spec.num_outputs == 1:

        @tf.function(input_signature=[examples_spec])
        def regress(serialized):
            return {REGRESSION_OUTPUT: tf.reshape(predict(parse(serialized))["values"], [-1])}

        signatures["regress"] = regress.get_concrete_function()
        methods["regress"] = REGRESS_METHOD
    return signatures, methods
