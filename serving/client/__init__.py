"""A Python client for TensorFlow Serving's gRPC API (and this project's server), in numpy terms.

    from serving.client import Client

    with Client("localhost:8500") as client:
        outputs = client.predict("half_plus_two", [1.0, 2.0])   # {"y": array([2.5, 3.], ...)}

`Client` blocks; `AsyncClient` has the same methods on asyncio. Errors are the typed exceptions
of serving/errors.py. Importing this package loads TensorFlow's protobuf modules (a few seconds):
tools that only need a module of it should import that module.
"""

from serving.client.aio import AsyncClient
from serving.client.channel import RetryPolicy, TlsConfig
from serving.client.client import Client
from serving.client.messages import ClassScore
from serving.client.metadata import ModelMetadata, ModelVersionStatus, SignatureInfo, TensorInfo

__all__ = [
    "AsyncClient",
    "ClassScore",
    "Client",
    "ModelMetadata",
    "ModelVersionStatus",
    "RetryPolicy",
    "SignatureInfo",
    "TensorInfo",
    "TlsConfig",
]
