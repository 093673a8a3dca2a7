"""tfzoo's inference server: TensorFlow Serving's gRPC API, served from Python."""

__version__ = "0.1.0"
