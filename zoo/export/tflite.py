"""`model.tflite` next to an exported SavedModel, for `zoo train|finetune --export-tflite`.

The file is converted from the SavedModel just written (tf.lite.TFLiteConverter.from_saved_model)
into the same version directory, so `zoo-serve --prefer_tflite_model` (and TF Serving's) serve it
in place of the SavedModel. Only TF Lite's builtin ops are used: they are what tf.lite.Interpreter,
TF Serving and mobile runtimes run without TensorFlow's kernels.

Every predict signature (serving_default, and `pixels` for images) is kept under its name. The
classify and regress signatures take serialized tf.Example protos, and parsing those needs
TensorFlow's ParseExampleV2, which the builtins lack; `image_bytes` decodes image files, which
they cannot either: these stay SavedModel-only, and the model card says so. (An export whose
serving_default takes image_bytes gets no model.tflite, and its card says why.)

Before the file is written, the converted serving_default runs on sample inputs next to the
SavedModel's: outputs that differ beyond float tolerance fail the conversion, rather than ship a
model that answers differently from the SavedModel it claims to be.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from serving import contract
from zoo.errors import ZooError
from zoo.spec import IMAGE_BYTES, DataSpec

TFLITE_FILE = os.path.join(*contract.TFLITE_MODEL_FILE)
_SERVING_DEFAULT = contract.DEFAULT_SIGNATURE
# Methods whose signatures parse tf.Example protos (TF Serving's Classify and Regress APIs).
_EXAMPLE_METHODS = (contract.CLASSIFY_METHOD, contract.REGRESS_METHOD)
_EXAMPLE_SKIP_REASON = ("takes serialized tf.Example protos; parsing them needs TensorFlow's "
                        "ParseExampleV2, which TF Lite's builtin ops lack")
_IMAGE_BYTES_SKIP_REASON = ("takes encoded image files; decoding them needs TensorFlow's "
                            "DecodeImage, which TF Lite's builtin ops lack")
# TF Lite against TensorFlow on the same inputs: float kernels differ in the last bits only.
RELATIVE_TOLERANCE = 1e-3
ABSOLUTE_TOLERANCE = 1e-4
_SAMPLE_SEED = 0

log = logging.getLogger(__name__)


class TfliteConversionError(ZooError):
    """The SavedModel cannot become a TF Lite model that answers as it does; says why."""


@dataclasses.dataclass(frozen=True)
class TfliteExport:
    """What was written: the file, its signatures, and how far it is from the SavedModel."""

    path: Path
    signatures: tuple[str, ...]
    skipped_signatures: dict[str, str]  # signature -> why it is not in the TF Lite model
    max_abs_difference: float  # serving_default, TF Lite vs SavedModel, on the sample inputs

    def card(self) -> dict[str, Any]:
        """The model card's `tflite` entry."""
        return {
            "file": self.path.name,
            "size_bytes": self.path.stat().st_size,
            "signatures": list(self.signatures),
            "skipped_signatures": dict(self.skipped_signatures),
            "max_abs_difference_vs_saved_model": self.max_abs_difference,
        }


def write_tflite_model(version_dir: str | Path, spec: DataSpec,
                       sample_inputs: np.ndarray | None = None) -> TfliteExport:
    """Converts the SavedModel in `version_dir` and writes `version_dir`/model.tflite.

    Args:
        version_dir: a directory holding a SavedModel written by zoo.export.
        spec: the model's data spec (names serving_default's input).
        sample_inputs: raw inputs (N, *spec.input_shape) to compare TF Lite's and the
            SavedModel's serving_default on; a seeded random batch when None.

    Raises:
        TfliteConversionError: serving_default cannot be converted with TF Lite's builtin ops,
            or the converted model answers differently; nothing is written then.
    """
    import tensorflow as tf

    version_dir = Path(version_dir)
    methods = _signature_methods(version_dir)
    if _SERVING_DEFAULT not in methods:
        raise TfliteConversionError(f"{version_dir} has no {_SERVING_DEFAULT} signature to convert")
    skipped = {key: _EXAMPLE_SKIP_REASON for key, method in methods.items()
               if method in _EXAMPLE_METHODS}
    if IMAGE_BYTES in methods:
        skipped[IMAGE_BYTES] = _IMAGE_BYTES_SKIP_REASON
    keys = [key for key in methods if key not in skipped]
    converter = tf.lite.TFLiteConverter.from_saved_model(str(version_dir), signature_keys=keys)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        content = converter.convert()
    except Exception as error:  # ConverterError, and whatever the MLIR import raises
        raise TfliteConversionError(
            f"TF Lite cannot convert {', '.join(keys)} with its builtin ops: "
            f"{_conversion_reason(error)}") from None
    inputs = _sample_inputs(spec, sample_inputs)
    difference = _compare_with_saved_model(version_dir, content, spec.input_name, inputs)
    path = version_dir / TFLITE_FILE
    path.write_bytes(content)
    return TfliteExport(path=path, signatures=tuple(sorted(keys)), skipped_signatures=skipped,
                        max_abs_difference=difference)


def tflite_card_entry(version_dir: str | Path, spec: DataSpec,
                      sample_inputs: np.ndarray | None = None) -> dict[str, Any]:
    """Writes model.tflite and returns the model card's `tflite` entry.

    A model TF Lite cannot convert (recurrent loops over a dynamic batch, text preprocessing)
    gets no file: the reason is logged as a warning and recorded in the card, and the SavedModel
    export goes on, since training it again is the only other way to get the export back.
    """
    try:
        return write_tflite_model(version_dir, spec, sample_inputs).card()
    except TfliteConversionError as error:
        log.warning("no %s written: %s", TFLITE_FILE, error)
        return {"error": str(error)}


def _signature_methods(version_dir: Path) -> dict[str, str]:
    """Signature key -> method name, from saved_model.pb (internal `__` entries left out)."""
    from tensorflow.core.protobuf import saved_model_pb2

    pb_path = version_dir / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel.FromString(pb_path.read_bytes())
    signature_defs = saved_model.meta_graphs[0].signature_def
    return {key: signature_defs[key].method_name for key in sorted(signature_defs)
            if not key.startswith("__")}


def _conversion_reason(error: Exception) -> str:
    """One line out of the converter's pages of MLIR: the ops it lacks, or its first error."""
    text = str(error)
    select_ops = re.search(r"TF Select ops: ([^\n]+)", text)
    if select_ops:
        return f"it needs TensorFlow ops TF Lite lacks: {select_ops.group(1).strip()}"
    if "TensorList" in text:
        return ("its recurrent loop keeps per-step state in TensorList ops, which TF Lite can "
                "lower only with a fixed batch size (the export's batch dimension is dynamic)")
    first_error = re.search(r"error: ([^\n]+)", text)
    if first_error:
        reason = first_error.group(1)
    else:
        reason = (text.strip().splitlines() or [repr(error)])[0]
    # Drop MLIR's source location, "loc(callsite(...)): ", which names graph internals.
    return re.sub(r"^loc\(.*\):\s+", "", reason.strip())[:300]


def _sample_inputs(spec: DataSpec, sample_inputs: np.ndarray | None) -> np.ndarray:
    if spec.input_dtype == "string":
        values = sample_inputs if sample_inputs is not None else ["", "tfzoo"]
        return np.array([value.encode() if isinstance(value, str) else bytes(value)
                         for value in np.asarray(values, dtype=object).reshape(-1)],
                        dtype=object)
    if sample_inputs is None:
        rng = np.random.default_rng(_SAMPLE_SEED)
        return rng.uniform(0.0, 1.0, (2, *spec.input_shape)).astype(np.float32)
    return np.asarray(sample_inputs, dtype=np.float32)


def _compare_with_saved_model(version_dir: Path, content: bytes, input_name: str,
                              inputs: np.ndarray) -> float:
    """The largest difference between the two serving_defaults' float outputs on `inputs`.

    Raises:
        TfliteConversionError: TF Lite fails on the inputs, or an output differs in shape, dtype,
            or beyond the tolerances.
    """
    import tensorflow as tf

    with warnings.catch_warnings():
        # tf.lite.Interpreter warns that LiteRT replaces it; for this check that is noise.
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_content=content)
    try:
        lite = interpreter.get_signature_runner(_SERVING_DEFAULT)(**{input_name: inputs})
    except (ValueError, RuntimeError) as error:
        raise TfliteConversionError(
            f"TF Lite's {_SERVING_DEFAULT} fails on {len(inputs)} sample inputs: {error}") from None
    reference = tf.saved_model.load(str(version_dir)).signatures[_SERVING_DEFAULT](
        **{input_name: tf.constant(inputs)})
    largest = 0.0
    for alias, tensor in reference.items():
        expected, received = tensor.numpy(), lite[alias]
        if expected.shape != received.shape or expected.dtype != received.dtype:
            raise TfliteConversionError(
                f"TF Lite's {_SERVING_DEFAULT} output {alias!r} is {received.dtype}"
                f"{list(received.shape)}, the SavedModel's {expected.dtype}{list(expected.shape)}")
        if expected.dtype.kind != "f":
            continue
        difference = float(np.max(np.abs(received - expected), initial=0.0))
        if not np.allclose(received, expected, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE,
                           equal_nan=True):
            raise TfliteConversionError(
                f"TF Lite's {_SERVING_DEFAULT} output {alias!r} differs from the SavedModel's by "
                f"up to {difference:.3g} on {len(inputs)} sample inputs")
        largest = max(largest, difference)
    return largest
