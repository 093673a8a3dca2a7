"""How the server turns a version directory into a Servable: the load function of its manager.

A version is loaded in TF Serving's order: open the runtime (TF Lite where asked and present,
else the SavedModel), replay the warmup requests, and only then attach the batcher, so warmup
runs each record on its own and never waits for a batch. The version's metrics recorder is
attached after warmup too, so what the metrics and statistics count are clients' requests. Everything version-specific that can
be wrong (a per-model batching_params.pbtxt, the model files, a warmup record) fails the load
with the status GetModelStatus reports.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import grpc

from serving.apis.tfs.settings import TfsSettings
from serving.apis.tfs.warmup import warm_up
from serving.backends import open_backend
from serving.backends.tflite import TfliteOptions
from serving.batching import BatchingParametersError, BatchingPolicy, attach_batcher
from serving.core import Servable, ServableLoadError
from serving.metrics import VersionRecorder


@dataclasses.dataclass(frozen=True)
class VersionLoader:
    """Loads versions the way the server's flags say; `load` is a ModelManager's load function.

    `warmup_iterations` of None skips warmup (--enable_model_warmup=false), which replays its
    records with `tfs_settings`; `batching` of None serves without batching; `tflite` of None
    never uses a model.tflite.
    """

    tags: Sequence[str] = ("serve",)
    warmup_iterations: int | None = 1
    tfs_settings: TfsSettings = TfsSettings()
    batching: BatchingPolicy | None = None
    tflite: TfliteOptions | None = None

    def load(self, name: str, version: int, path: str) -> Servable:
        """The ready Servable of version `version` of model `name`, read from `path`.

        Raises:
            ServableLoadError: the version cannot be served; its code is the status to report.
        """
        batching_options = self._batching_options(path)
        servable = Servable(name, version, path,
                            open_backend(name, version, path, self.tags, self.tflite))
        try:
            if self.warmup_iterations is not None:
                warm_up(servable, self.warmup_iterations, self.tfs_settings)
        except BaseException:
            servable.unload()
            raise
        servable = servable.observed_by(VersionRecorder(name, version))
        if batching_options is not None:
            servable = attach_batcher(servable, batching_options)
        return servable

    def _batching_options(self, path: str):
        """Read before loading, so an unusable per-model batching_params.pbtxt fails at once."""
        if self.batching is None:
            return None
        try:
            return self.batching.options_for_version(path)
        except BatchingParametersError as error:
            raise ServableLoadError(str(error), grpc.StatusCode.INVALID_ARGUMENT) from None
