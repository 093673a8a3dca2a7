"""tfzoo-client: a Python client for TensorFlow Serving's gRPC API and KServe v2 (zoo-serve,
tensorflow_model_server, KServe and Triton servers), in numpy terms, without TensorFlow.

    from tfzoo_client import Client

    with Client("localhost:8500") as client:
        outputs = client.predict("half_plus_two", [1.0, 2.0])   # {"y": array([2.5, 3.], ...)}

`Client` blocks; `AsyncClient` has the same methods on asyncio. Errors are the typed exceptions
of tfzoo_client/errors.py. It needs grpcio, protobuf and numpy only: TF Serving's and
TensorFlow's messages are compiled into tfzoo_client._proto, in a descriptor pool of their own, so
the client works beside an installed tensorflow or tensorflow-serving-api, or without them.
"""

from tfzoo_client import errors
from tfzoo_client.aio import AsyncClient
from tfzoo_client.channel import RetryPolicy, TlsConfig
from tfzoo_client.client import Client
from tfzoo_client.messages import ClassScore
from tfzoo_client.metadata import ModelMetadata, ModelVersionStatus, SignatureInfo, TensorInfo

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
    "errors",
]
