"""SavedModels served through TensorFlow: TensorFlow Serving's own runtime.

SavedModelBackend calls the signature functions of `tf.saved_model.load`; SessionBackend runs a
MetaGraph in a TF1 session, as TF Serving does, for TF1 exports that loader rejects.
`load_saved_model` chooses between them for a version.
"""

from serving.backends.savedmodel.backend import SavedModelBackend, read_signature_defs
from serving.backends.savedmodel.loading import load_saved_model
from serving.backends.savedmodel.session_backend import SessionBackend

__all__ = ["SavedModelBackend", "SessionBackend", "load_saved_model", "read_signature_defs"]
