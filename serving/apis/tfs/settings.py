"""How the TF Serving APIs behave where tensorflow_model_server has a flag or config for it."""

from __future__ import annotations

import dataclasses

from serving.apis.tfs.request_logger import ServerRequestLogger


@dataclasses.dataclass(frozen=True)
class TfsSettings:
    """`tensor_content_outputs`: Predict outputs in tensor_content rather than the typed *_val
    fields (--enable_serialization_as_tensor_content; off by default, as in TF Serving).
    `check_method_name`: signatures must carry the method_name of the API that runs them
    (--enable_signature_method_name_check). `request_logger` logs the answered requests of the
    models whose config has a logging_config (None: nothing is logged)."""

    tensor_content_outputs: bool = False
    check_method_name: bool = False
    request_logger: ServerRequestLogger | None = None
