"""The protocol-agnostic model core: the model list, version policies, loading, and handles.

Front ends (TF Serving's APIs, the Open Inference Protocol) hold a `ModelManager` and ask it for
a `Servable` per request; nothing here knows about any wire protocol or config file format.
Importing this package does not import TensorFlow: that happens when the first model loads.
"""

from serving.core.config import ModelConfig
from serving.core.events import StateEvent
from serving.core.manager import ModelManager, VersionStatus
from serving.core.observer import SAVED_MODEL, TFLITE, RunTiming, VersionObserver
from serving.core.servable import Backend, Batcher, Servable, ServableLoadError
from serving.core.version_policy import VersionPolicy

__all__ = [
    "SAVED_MODEL",
    "TFLITE",
    "Backend",
    "Batcher",
    "ModelConfig",
    "ModelManager",
    "RunTiming",
    "Servable",
    "ServableLoadError",
    "StateEvent",
    "VersionObserver",
    "VersionPolicy",
    "VersionStatus",
]
