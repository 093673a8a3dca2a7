"""Export trained zoo models as versioned SavedModels that TensorFlow Serving loads unchanged."""

from zoo.export.saved_model import export_saved_model, next_version

__all__ = ["export_saved_model", "next_version"]
