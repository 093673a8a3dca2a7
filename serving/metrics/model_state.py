"""Model load state as a metric, read from the manager at scrape time.

`:tfzoo:serving:model_version_state{model_name, version, state}` is 1 for the state a version is
in and 0 for the other four (START, LOADING, AVAILABLE, UNLOADING, END), so
`:tfzoo:serving:model_version_state{state="AVAILABLE"} == 0` finds versions that are not serving.
TF Serving has no such metric; it is read on demand, so it never goes stale.
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from serving import errors

STATES = ("START", "LOADING", "AVAILABLE", "UNLOADING", "END")
MODEL_STATE_METRIC = ":tfzoo:serving:model_version_state"


class ModelStateCollector:
    """A prometheus_client collector over a ModelManager's GetModelStatus view."""

    def __init__(self, manager):
        self._manager = manager

    def collect(self):
        family = GaugeMetricFamily(
            MODEL_STATE_METRIC,
            "1 for the state each model version is in (START, LOADING, AVAILABLE, UNLOADING, END).",
            labels=("model_name", "version", "state"))
        for name in self._manager.model_names():
            try:
                statuses = self._manager.status(name)
            except errors.NotFound:
                continue  # no version found on disk yet
            for status in statuses:
                for state in STATES:
                    family.add_metric((name, str(status.version), state),
                                      1.0 if status.state == state else 0.0)
        yield family
