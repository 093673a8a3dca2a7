"""The serving signatures of an exported zoo model.

`serving_default` (method tensorflow/serving/predict) takes the raw input under the dataset's
input name and returns `probabilities` and `classes` (classifiers) or `values` (regressors).
Image models have two predict signatures, one per input form (zoo.spec.INPUT_FORMS): `pixels`
(decoded pixels under the input name) and `image_bytes` (encoded image files, decoded inside the
graph: zoo/export/image_inputs.py); `serving_default` is the form chosen at export.
Classifiers also get `classify` and single-output regressors `regress`: both take serialized
tf.Example protos under `inputs`, each carrying serving_default's input as one feature, so TF
Serving's Classify/Regress RPCs work on them.
"""

from __future__ import annotations

import tensorflow as tf

from serving.contract import (CLASSES_OUTPUT, CLASSIFY_METHOD, DEFAULT_SIGNATURE, EXAMPLES_INPUT,
                              PREDICT_METHOD, REGRESS_METHOD, REGRESSION_OUTPUT, SCORES_OUTPUT)
from zoo.export.image_inputs import decode_images, image_bytes_spec
from zoo.spec import IMAGE_BYTES, PIXELS, DataSpec


def input_tensor_spec(spec: DataSpec) -> tf.TensorSpec:
    dtype = tf.string if spec.input_dtype == "string" else tf.float32
    return tf.TensorSpec([None, *spec.input_shape], dtype, name=spec.input_name)


def example_feature_spec(spec: DataSpec, input_form: str = PIXELS) -> dict:
    """How one tf.Example carries one input: a flat float list (reshaped) or one bytes value (text,
    or an encoded image under image_bytes)."""
    if input_form == IMAGE_BYTES:
        return {IMAGE_BYTES: tf.io.FixedLenFeature([], tf.string)}
    if spec.input_dtype == "string":
        return {spec.input_name: tf.io.FixedLenFeature([], tf.string)}
    return {spec.input_name: tf.io.FixedLenFeature(list(spec.input_shape), tf.float32)}


def build_signatures(module: tf.Module, spec: DataSpec, input_form: str = PIXELS
                     ) -> tuple[dict, dict[str, str]]:
    """Concrete functions to save, and the method name each signature must carry.

    `input_form` is what serving_default takes (IMAGE_BYTES for image data only: checked by the
    caller, spec.check_input_form).
    """
    model = module.model

    def predict(inputs: tf.Tensor) -> dict:
        outputs = tf.cast(model(inputs, training=False), tf.float32)
        if spec.is_classification:
            return {"probabilities": outputs, "classes": tf.argmax(outputs, axis=-1)}
        return {"values": outputs}

    def parse(serialized: tf.Tensor) -> tf.Tensor:
        """serving_default's input out of tf.Examples, as the model takes it."""
        features = example_feature_spec(spec, input_form)
        [name] = features
        values = tf.io.parse_example(serialized, features)[name]
        return decode_images(values, spec) if input_form == IMAGE_BYTES else values

    predict_raw = tf.function(predict, input_signature=[input_tensor_spec(spec)]).get_concrete_function()
    signatures = {DEFAULT_SIGNATURE: predict_raw}
    if spec.takes_image_files:

        def predict_image_bytes(image_bytes: tf.Tensor) -> dict:
            return predict(decode_images(image_bytes, spec))

        signatures[PIXELS] = predict_raw
        signatures[IMAGE_BYTES] = tf.function(
            predict_image_bytes, input_signature=[image_bytes_spec()]).get_concrete_function()
        signatures[DEFAULT_SIGNATURE] = signatures[input_form]
    methods = {name: PREDICT_METHOD for name in signatures}
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
