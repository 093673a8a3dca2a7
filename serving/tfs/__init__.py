"""TensorFlow Serving's gRPC API over the model manager: services and protobuf conversions.

Import the modules directly (`serving.tfs.tensor_codec`, `serving.tfs.prediction_service`...):
they load TensorFlow's protobuf modules, which this package's import deliberately does not.
"""
