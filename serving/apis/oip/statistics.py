"""Triton's statistics extension: what each model version has answered, and how long it took.

The figures are the ones the server records for its metrics (serving.metrics.statistics, fed by
each version's VersionRecorder): they count client requests that reached a loaded version, on
every protocol (TF Serving's Predict, Classify and Regress as well as ModelInfer), and leave out
warmup. A request refused before it reached a version (an unknown model, a body that does not
decode) belongs to no version and is counted only in the Prometheus request metrics.
"""

from __future__ import annotations

from serving import errors
from serving.apis.oip.inference import parse_version
from serving.metrics import StatisticsSnapshot, statistics_snapshot

# The durations Triton's statistics report, by their field names in its messages and documents
# (and in StatisticsSnapshot): each model execution's, then each request's. The cache ones are
# always zero: the server keeps no response cache.
COMPUTE_DURATIONS = ("compute_input", "compute_infer", "compute_output")
REQUEST_DURATIONS = ("success", "fail", "queue", *COMPUTE_DURATIONS)
CACHE_DURATIONS = ("cache_hit", "cache_miss")


def model_statistics(manager, name: str, version: str, call) -> tuple[StatisticsSnapshot, ...]:
    """The statistics of every available version of every model (`name` ""), of every available
    version of `name` (`version` ""), or of the one version `version` names (a number or label).

    Raises:
        errors.NotFound: unknown model, or no such available version.
        errors.InvalidArgument: a version without a model name.
    """
    call.target(name, label=version or None)
    if not name:
        if version:
            raise errors.InvalidArgument(
                f"A version needs a model name. Received: name='', version={version!r}")
        return tuple(snapshot for model in manager.model_names()
                     for snapshot in _available_versions(manager, model))
    if name not in manager.model_names():
        raise errors.NotFound(
            f"Model {name!r} is not served. Served models: {manager.model_names()}")
    number, label = parse_version(name, version)
    if number is None and label is None:
        return _available_versions(manager, name)
    with manager.servable(name, number, label) as servable:
        return (statistics_snapshot(name, servable.version),)


def _available_versions(manager, name: str) -> tuple[StatisticsSnapshot, ...]:
    return tuple(statistics_snapshot(name, number)
                 for number in manager.available_versions(name))
