"""Encoded image files as a model input: decoded, resized and checked inside the exported graph.

TF Serving's ResNet example sends a JPEG as it is (REST `{"b64": ...}`, gRPC DT_STRING) and lets the
SavedModel decode it; an image export here does the same in its `image_bytes` signature, so a
client needs neither an image library nor the model's input size. Each string of the batch is
decoded to the model's channel count (JPEG, PNG, GIF's first frame, BMP), resized to its height and
width with antialiased bilinear filtering (what Pillow's BILINEAR does when shrinking, so a file
sent as bytes and the same file decoded and resized by `zoo predict` for a pixel signature give
nearly the same pixels), and handed to the model as the 0..255 values an image file holds. The
model's own preprocessing then runs as it does for the `pixels` signature.

A string that does not decode refuses the whole request with INVALID_ARGUMENT naming the input and
the index of every bad image: TensorFlow's decoder error names neither, and answering for the
other images alone would silently drop some of the batch. The images are decoded by a tf.data
pipeline that drops failures (`ignore_errors`), then the graph asserts that every index came back.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.spec import IMAGE_BYTES, PIXELS, DataSpec

# Filtering when resizing: antialiased bilinear, as Pillow's BILINEAR when shrinking.
RESIZE_METHOD = "bilinear"
DECODED_FORMATS = "JPEG, PNG, GIF or BMP"


def image_bytes_spec() -> tf.TensorSpec:
    """A batch of encoded images, one string each: the image_bytes signature's only input."""
    return tf.TensorSpec([None], tf.string, name=IMAGE_BYTES)


def decode_images(encoded: tf.Tensor, spec: DataSpec) -> tf.Tensor:
    """[batch] encoded images -> [batch, height, width, channels] float32 pixels in 0..255.

    Running the result fails with InvalidArgumentError, naming the input and the indices of the
    strings that do not decode, when any of them does not.
    """
    height, width, channels = spec.input_shape
    count = tf.shape(encoded, out_type=tf.int64)[0]

    def decode(index, data):
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
        image.set_shape([None, None, channels])
        return index, tf.image.resize(image, [height, width], method=RESIZE_METHOD, antialias=True)

    decoded = (tf.data.Dataset.from_tensor_slices((tf.range(count), encoded))
               .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
               .ignore_errors())
    # One batch of whatever decoded; an empty request gives no batch, hence the empty fallback.
    nothing = tf.data.Dataset.from_tensors((tf.zeros([0], tf.int64), tf.zeros([0, height, width, channels])))
    indices, images = decoded.batch(tf.maximum(count, 1)).concatenate(nothing).take(1).get_single_element()
    decodable = tf.scatter_nd(indices[:, tf.newaxis], tf.ones_like(indices, tf.bool), [count])
    bad = tf.strings.reduce_join(tf.strings.as_string(tf.where(~decodable)[:, 0]), separator=", ")
    # Joined rather than formatted (tf.strings.format quotes strings), and without quotes, which
    # Assert prints escaped.
    message = tf.strings.join([
        f"Input {IMAGE_BYTES}: cannot decode the image(s) at index ", bad, " of the batch of ",
        tf.strings.as_string(count), f" as {DECODED_FORMATS}; the whole batch is refused"])
    with tf.control_dependencies([tf.debugging.Assert(tf.reduce_all(decodable), [message])]):
        return tf.identity(images)


def encode_images(pixels: np.ndarray) -> np.ndarray:
    """Examples of raw pixels (N, height, width, channels) as PNG files (an object array of
    bytes), rounded and clipped to 0..255: image_bytes inputs made from a dataset's examples."""
    rounded = np.clip(np.rint(np.asarray(pixels, dtype=np.float32)), 0, 255).astype(np.uint8)
    return np.array([tf.io.encode_png(image).numpy() for image in rounded], dtype=object)


def input_contract(spec: DataSpec, input_form: str) -> dict:
    """What each input form of an image export takes, and which one serving_default is: the
    model card's `input` entry."""
    height, width, channels = spec.input_shape
    return {
        "serving_default": input_form,
        PIXELS: {
            "input": spec.input_name,
            "dtype": "float32",
            "shape": [-1, height, width, channels],
            "values": "decoded pixels, as the training data held them "
                      f"({spec.description or 'see data_spec'}); the model's preprocessing runs "
                      "inside the graph",
        },
        IMAGE_BYTES: {
            "input": IMAGE_BYTES,
            "dtype": "string",
            "shape": [-1],
            "values": f"one encoded {DECODED_FORMATS} file per example, decoded to {channels} "
                      f"channel(s) and resized to {height}x{width} ({RESIZE_METHOD}, antialiased) "
                      "inside the graph; REST sends each as {\"b64\": ...}",
        },
    }
