"""How the TF Serving APIs behave where tensorflow_model_server has a flag for it."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TfsSettings:
    """`tensor_content_outputs`: Predict outputs in tensor_content rather than the typed *_val
    fields (--enable_serialization_as_tensor_content; off by default, as in TF Serving).
    `check_method_name`: signatures must carry the method_name of the API that runs them
    (--enable_signature_method_name_check)."""

    tensor_content_outputs: bool = False
    check_method_name: bool = False
