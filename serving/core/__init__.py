"""The protocol-agnostic model core: config, version policies, loading, and request handles.

Front ends (TF Serving gRPC, later REST and KServe v2) hold a `ModelManager` and ask it for a
`Servable` per request; nothing here knows about any wire protocol. Importing this package does
not import TensorFlow: that happens when the first model loads.
"""

from serving.core.config import (ConfigFileWatcher, load_model_config_file, parse_model_config_text,
                                 single_model_config, validate_model_server_config)
from serving.core.manager import ModelManager, VersionStatus
from serving.core.servable import Backend, Batcher, Servable, ServableLoadError
from serving.core.version_policy import VersionPolicy

__all__ = [
    "Backend",
    "Batcher",
    "ConfigFileWatcher",
    "ModelManager",
    "Servable",
    "ServableLoadError",
    "VersionPolicy",
    "VersionStatus",
    "load_model_config_file",
    "parse_model_config_text",
    "single_model_config",
    "validate_model_server_config",
]
