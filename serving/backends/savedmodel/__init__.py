"""SavedModels served through TensorFlow: TensorFlow Serving's own runtime."""

from serving.backends.savedmodel.backend import SavedModelBackend, read_signature_defs

__all__ = ["SavedModelBackend", "read_signature_defs"]
