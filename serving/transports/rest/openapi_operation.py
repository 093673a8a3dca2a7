"""What the OpenAPI document says of one REST route: `OperationDoc`, carried by the Route itself.

The document (openapi_document.py) is generated from the dispatcher's own route table, so every
route a request can reach is documented and every documented path is a route (a test checks both
ways). A route's doc lists the OpenAPI path templates it answers (`/v1/models/{model}:predict`,
with the route pattern's group names as parameters) and names its bodies by component schema
(openapi_schemas.py); the per-model documents replace those components with schemas made from
the model's signatures (signature_schemas.py).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

JSON = "application/json"
BINARY = "application/octet-stream"
TEXT = "text/plain"
HTML = "text/html"

TFS_TAG = "TensorFlow Serving API (/v1)"
OIP_TAG = "Open Inference Protocol (/v2)"
SERVER_TAG = "Server"

# The path parameters of the routes, by the route patterns' group names.
MODEL_PARAMETER = {"type": "string", "minLength": 1,
                   "description": "The model's name, as the model config names it."}
PATH_PARAMETERS = {
    "model": MODEL_PARAMETER,
    "version": {"type": "integer", "minimum": 0, "format": "int64",
                "description": "A version number (the version's directory name)."},
    "label": {"type": "string", "minLength": 1,
              "description": "A version label from the model config (version_labels)."},
}


@dataclasses.dataclass(frozen=True)
class OperationDoc:
    """The OpenAPI description of one route.

    `paths`: the OpenAPI path templates the route answers; each becomes one operation, whose
    operationId is `operation_id` plus the template's distinguishing parameter. `request` and
    `response` name component schemas of the JSON bodies (None: no body; `response_media` for a
    body that is not JSON, then `response` may name a schema of it or be None). `responses` adds
    statuses other than 200 that are not errors (503 of a readiness probe), by component schema;
    every operation may answer errors with the Error schema. `parameters` overrides the schema
    of a path parameter (PATH_PARAMETERS otherwise). `binary` documents the Open Inference
    Protocol's binary tensor extension (application/octet-stream bodies) beside the JSON.
    """

    operation_id: str
    summary: str
    tag: str
    paths: tuple[str, ...]
    description: str = ""
    request: str | None = None
    response: str | None = None
    response_media: str = JSON
    responses: Mapping[int, str] = dataclasses.field(default_factory=dict)
    parameters: Mapping[str, Mapping] = dataclasses.field(default_factory=dict)
    binary: bool = False
    per_model: bool = False  # the paths name a model: repeated in its per-model document

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError(f"an OperationDoc needs at least one path. Received: paths=() "
                             f"(operation {self.operation_id!r})")


def servable_paths(prefix: str, suffix: str) -> tuple[str, str, str]:
    """TF Serving's three ways to name a servable in a /v1 path: latest, version, label."""
    return (f"{prefix}{suffix}", f"{prefix}/versions/{{version}}{suffix}",
            f"{prefix}/labels/{{label}}{suffix}")
