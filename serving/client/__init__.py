"""The Python client, kept importable here: it is the `tfzoo-client` distribution (client/ in this
repository, package `tfzoo_client`), which needs no TensorFlow. New code imports `tfzoo_client`.

    from serving.client import Client
"""

from tfzoo_client import (AsyncClient, ClassScore, Client, ModelMetadata, ModelVersionStatus, RetryPolicy,
                          SignatureInfo, TensorInfo, TlsConfig)

__all__ = ["AsyncClient", "ClassScore", "Client", "ModelMetadata", "ModelVersionStatus", "RetryPolicy",
           "SignatureInfo", "TensorInfo", "TlsConfig"]
