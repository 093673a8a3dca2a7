"""Write `EXPORT_BASE/MODEL_NAME/VERSION/` as TensorFlow Serving expects it.

Layout of one version:
    saved_model.pb, variables/           the graph with its signatures
    assets/labels.txt                    class names, one per line (classifiers)
    assets.extra/model_card.json         what the model is, how it was trained, how it scored
    assets.extra/tf_serving_warmup_requests
    model.tflite                         with tflite=True: the same predict signatures for TF Lite

The version is written to a hidden temporary directory and renamed into place, so a server
polling the base path never sees a half-written version.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from serving import contract
from zoo.export.image_inputs import input_contract
from zoo.export.signatures import build_signatures
from zoo.export.tflite import tflite_card_entry
from zoo.export.warmup import write_warmup_requests
from zoo.spec import PIXELS, DataSpec


def next_version(model_dir: Path) -> int:
    """One more than the largest integer version directory (1 for a new model)."""
    versions = [int(p.name) for p in model_dir.glob("*") if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


def export_saved_model(
    model: keras.Model,
    spec: DataSpec,
    export_base: str | os.PathLike,
    model_name: str,
    *,
    version: int | None = None,
    model_card: dict[str, Any] | None = None,
    warmup_examples: np.ndarray | None = None,
    tflite: bool = False,
    input_form: str = PIXELS,
) -> Path:
    """Export `model` and return the new version directory.

    `input_form` is what serving_default takes: PIXELS (the raw values `spec` describes) or, for
    image data, IMAGE_BYTES (encoded image files; see zoo/export/image_inputs.py). With `tflite`,
    the version also holds model.tflite (see zoo/export/tflite.py).
    """
    spec.check_input_form(input_form)
    model_dir = Path(export_base) / model_name
    model_dir.mkdir(parents=True, exist_ok=True)
    version = next_version(model_dir) if version is None else version
    if version < 1:
        raise ValueError(f"version must be a positive integer. Received: version={version}")
    final_dir = model_dir / str(version)
    if final_dir.exists():
        raise FileExistsError(f"{final_dir} already exists; versions are never overwritten")

    staging = Path(tempfile.mkdtemp(prefix=f".export-{version}-", dir=model_dir))
    try:
        _write_version(staging, model, spec, model_name, version, model_card or {}, warmup_examples,
                       tflite, input_form)
        os.rename(staging, final_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final_dir


def _write_version(
    target: Path,
    model: keras.Model,
    spec: DataSpec,
    model_name: str,
    version: int,
    model_card: dict[str, Any],
    warmup_examples: np.ndarray | None,
    tflite: bool,
    input_form: str,
) -> None:
    module = tf.Module()
    module.model = model
    # Keras 3 keeps some state (e.g. Dropout's RNG seed) outside what tf.Module tracking finds;
    # attach every variable explicitly, as keras.export.ExportArchive does.
    module.model_variables = list(model.variables)
    with tempfile.TemporaryDirectory() as scratch:
        if spec.is_classification:
            # The Asset is copied into assets/ under its own file name.
            labels = Path(scratch) / contract.LABELS_FILE[-1]
            names = spec.class_names or tuple(str(i) for i in range(spec.num_outputs))
            labels.write_text("".join(f"{name}\n" for name in names))
            module.labels = tf.saved_model.Asset(str(labels))
        signatures, methods = build_signatures(module, spec, input_form)
        # The TF Lite converter finds weights only through the tf.Variables a signature captured,
        # not through the keras.Variable wrappers above: untracked, model.tflite reads garbage.
        module.captured_variables = list({id(variable): variable for function in signatures.values()
                                          for variable in function.variables}.values())
        tf.saved_model.save(module, str(target), signatures=signatures)
    _set_method_names(target, methods)
    if spec.takes_image_files:
        model_card = {**model_card, "input": input_contract(spec, input_form)}
    if tflite:
        model_card = {**model_card, "tflite": tflite_card_entry(target, spec, warmup_examples)}

    card_path = Path(target, *contract.MODEL_CARD_FILE)
    card_path.parent.mkdir()
    card = {
        **model_card,
        "name": model_name,
        "version": version,
        "data_spec": spec.to_dict(),
        "signatures": {name: method for name, method in methods.items()},
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True, default=str))
    if warmup_examples is not None:
        write_warmup_requests(target, model_name, spec, warmup_examples, input_form)


def _set_method_names(saved_model_dir: Path, methods: dict[str, str]) -> None:
    """TF2's saver marks every signature as predict; TF Serving's Classify/Regress check the
    method name, so rewrite it for the classify and regress signatures."""
    pb_path = saved_model_dir / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel.FromString(pb_path.read_bytes())
    for meta_graph in saved_model.meta_graphs:
        for name, method in methods.items():
            meta_graph.signature_def[name].method_name = method
    pb_path.write_bytes(saved_model.SerializeToString())


def read_model_card(version_dir: str | os.PathLike) -> dict[str, Any]:
    """The model card an export wrote (empty for SavedModels exported elsewhere)."""
    path = Path(version_dir, *contract.MODEL_CARD_FILE)
    return json.loads(path.read_text()) if path.exists() else {}
