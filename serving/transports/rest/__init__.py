"""The HTTP/REST port: TF Serving's /v1 REST API, the Open Inference Protocol's /v2 endpoints and
the Prometheus page, dispatched in one place (`dispatcher.RestDispatcher`) under the guard.

Importing this package is cheap; the modules that need TensorFlow's protos import them when the
server is built.
"""
