"""The Open Inference Protocol's (KServe v2) data plane, shared by its gRPC and REST transports.

Import the modules directly: `datatypes` imports TensorFlow's dtype enum, and with it TensorFlow,
which this package's import deliberately does not.
"""
