"""Replaying recorded requests: send a PredictionLog file's requests again and compare the answers.

A request log written by the server's request logging (a model's logging_config) or a version's
assets.extra/tf_serving_warmup_requests is a TFRecord of `tensorflow.serving.PredictionLog`, each
a request and, when logged from traffic, the response it got. Sending the requests to a server
again and comparing the answers checks a new version against recorded traffic: outputs are
compared tensor by tensor (numbers within `rtol`/`atol`, strings exactly), classifications label
by label and score by score.

By default each request goes to the latest version of its model (the version it was recorded
with is dropped), since that is the version being checked; `version` or `label` pin one, and
`model` sends every request to another model name.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

from tfzoo_client.messages import predict_outputs

# PredictionLog field -> the PredictionService method that answers its request.
METHODS = {"predict_log": "Predict", "classify_log": "Classify", "regress_log": "Regress",
           "multi_inference_log": "MultiInference"}


@dataclasses.dataclass(frozen=True)
class Target:
    """Where replayed requests go: `model` (None: the recorded one), at most one of `version`
    and `label` (neither: the latest version)."""

    model: str | None = None
    version: int | None = None
    label: str | None = None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One replayed record: `differences` is empty when the answer matched (or nothing was
    recorded to compare with: `compared` is False); `error` holds a failed call's message."""

    index: int
    kind: str
    compared: bool
    differences: tuple[str, ...] = ()
    error: str | None = None


def read_prediction_logs(path: str) -> Iterator:
    """The PredictionLog records of a TFRecord file, in order.

    Raises:
        ValueError: the file is not a TFRecord of PredictionLog (the message says which record).
    """
    import tensorflow as tf
    from google.protobuf import message
    from tensorflow_serving.apis import prediction_log_pb2

    index = 0
    try:
        for index, record in enumerate(tf.data.TFRecordDataset(path), start=1):
            try:
                yield prediction_log_pb2.PredictionLog.FromString(record.numpy())
            except message.DecodeError:
                raise ValueError(f"{path}: record {index} is not a PredictionLog") from None
    except tf.errors.OpError as error:
        raise ValueError(f"{path}: not a TFRecord file after record {index} ({error.message})"
                         ) from None


def retarget(request, kind: str, target: Target):
    """A copy of the recorded `request` aimed at `target` (every task, for MultiInference)."""
    request = type(request).FromString(request.SerializeToString())
    specs = ([task.model_spec for task in request.tasks] if kind == "multi_inference_log"
             else [request.model_spec])
    for spec in specs:
        if target.model:
            spec.name = target.model
        spec.ClearField("version_choice")
        if target.version is not None:
            spec.version.value = target.version
        elif target.label:
            spec.version_label = target.label
    return request


def replay(client, path: str, target: Target = Target(), *, rtol: float = 1e-5,
           atol: float = 1e-6, timeout: float | None = None) -> Iterator[Outcome]:
    """Sends every request of the log at `path` through `client` (a tfzoo_client.Client) and
    yields how each answer compares with the recorded one."""
    from serving.errors import ServingError

    for index, log in enumerate(read_prediction_logs(path), start=1):
        kind = log.WhichOneof("log_type")
        if kind not in METHODS:
            yield Outcome(index, kind or "empty", False, error=f"{kind or 'an empty log'} cannot be replayed")
            continue
        entry = getattr(log, kind)
        try:
            answer = client.send(METHODS[kind], retarget(entry.request, kind, target),
                                 timeout=timeout)
        except ServingError as error:
            yield Outcome(index, kind, False, error=f"{error.code.name}: {error.message}")
            continue
        if not entry.HasField("response"):
            yield Outcome(index, kind, False)  # a warmup record: nothing to compare with
            continue
        yield Outcome(index, kind, True, tuple(compare(kind, entry.response, answer, rtol, atol)))


def compare(kind: str, recorded, answer, rtol: float, atol: float) -> list[str]:
    """What differs between a recorded response and a new one, one line each."""
    if kind == "predict_log":
        return _compare_outputs(predict_outputs(recorded), predict_outputs(answer), rtol, atol)
    if kind == "multi_inference_log":
        if len(recorded.results) != len(answer.results):
            return [f"{len(answer.results)} results, recorded {len(recorded.results)}"]
        differences = []
        for number, (old, new) in enumerate(zip(recorded.results, answer.results), start=1):
            which = old.WhichOneof("result")
            if new.WhichOneof("result") != which:
                differences.append(f"result {number}: {new.WhichOneof('result')}, recorded {which}")
            elif which == "classification_result":
                differences += [f"result {number}: {line}" for line in
                                _compare_classifications(old.classification_result,
                                                         new.classification_result, rtol, atol)]
            else:
                differences += [f"result {number}: {line}" for line in
                                _compare_regressions(old.regression_result,
                                                     new.regression_result, rtol, atol)]
        return differences
    if kind == "classify_log":
        return _compare_classifications(recorded.result, answer.result, rtol, atol)
    return _compare_regressions(recorded.result, answer.result, rtol, atol)


def _compare_outputs(recorded: dict, answer: dict, rtol: float, atol: float) -> list[str]:
    differences = []
    if sorted(recorded) != sorted(answer):
        differences.append(f"outputs {sorted(answer)}, recorded {sorted(recorded)}")
    for name in sorted(set(recorded) & set(answer)):
        differences += [f"output {name!r}: {line}"
                        for line in _compare_arrays(recorded[name], answer[name], rtol, atol)]
    return differences


def _compare_arrays(recorded: np.ndarray, answer: np.ndarray, rtol: float, atol: float) -> list[str]:
    if recorded.shape != answer.shape:
        return [f"shape {list(answer.shape)}, recorded {list(recorded.shape)}"]
    numeric = recorded.dtype.kind in "biufc" and answer.dtype.kind in "biufc"
    if not numeric:
        unequal = recorded != answer
        return [f"{int(np.sum(unequal))} of {recorded.size} values differ"] if np.any(unequal) else []
    close = np.isclose(answer, recorded, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return []
    worst = np.unravel_index(np.argmax(np.abs(answer.astype(np.float64) - recorded)), recorded.shape)
    return [f"{int(np.sum(~close))} of {recorded.size} values differ beyond rtol={rtol:g} "
            f"atol={atol:g}; largest at {list(map(int, worst))}: {answer[worst]!r}, recorded "
            f"{recorded[worst]!r}"]


def _compare_classifications(recorded, answer, rtol: float, atol: float) -> list[str]:
    if len(recorded.classifications) != len(answer.classifications):
        return [f"{len(answer.classifications)} examples classified, recorded "
                f"{len(recorded.classifications)}"]
    differences = []
    for number, (old, new) in enumerate(zip(recorded.classifications, answer.classifications),
                                        start=1):
        old_labels = [entry.label for entry in old.classes]
        new_labels = [entry.label for entry in new.classes]
        if old_labels != new_labels:
            differences.append(f"example {number}: classes {new_labels}, recorded {old_labels}")
            continue
        scores = _compare_arrays(np.array([entry.score for entry in old.classes]),
                                 np.array([entry.score for entry in new.classes]), rtol, atol)
        differences += [f"example {number} scores: {line}" for line in scores]
    return differences


def _compare_regressions(recorded, answer, rtol: float, atol: float) -> list[str]:
    return [f"values: {line}" for line in _compare_arrays(
        np.array([entry.value for entry in recorded.regressions], np.float64),
        np.array([entry.value for entry in answer.regressions], np.float64), rtol, atol)]
