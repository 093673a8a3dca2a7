"""The OpenAPI 3.1 documents of the REST port, generated from the dispatcher's route table.

`openapi_document(routes)` describes every route (TF Serving's /v1, the Open Inference Protocol's
/v2, the metrics page, these documents and the docs page) from the `OperationDoc` each Route
carries, so it cannot drift from what is served. `model_openapi_document(routes, model, ...)`
describes one model: the routes that name a model, with its name in the paths, its versions and
labels as the only values of those parameters, and bodies made from its signatures.

Every operation documents its errors: any status not listed answers `{"error": "..."}` (the
`default` response). With --auth_token_file, every operation that is not public requires the
bearer token (securitySchemes.bearerAuth).
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from typing import Iterable, Mapping, Sequence

import serving
from serving.transports.rest.openapi_operation import BINARY, JSON, PATH_PARAMETERS, OperationDoc
from serving.transports.rest.openapi_schemas import component_schemas
from serving.transports.rest.signature_schemas import model_components

OPENAPI_VERSION = "3.1.0"
TITLE = "tfzoo model server REST API"
_PARAMETER = re.compile(r"\{(\w+)\}")
_SECURITY_SCHEME = "bearerAuth"


def openapi_document(routes: Sequence, *, requires_token: bool = False) -> dict:
    """The document of every route in `routes` (each must carry an OperationDoc)."""
    return _document(
        TITLE,
        "TensorFlow Serving's REST API, the Open Inference Protocol (KServe v2) and the "
        "server's own pages. Each model also has its own document, with request and response "
        "bodies made from its signatures: GET /v1/models/{model}/openapi.json.",
        [(route, doc, template, template) for route, doc, template in _operations(routes)],
        component_schemas(), {}, requires_token)


def model_openapi_document(routes: Sequence, model: str, signature_defs: Mapping,
                           versions: Iterable[int], labels: Iterable[str], *,
                           requires_token: bool = False) -> dict:
    """The document of model `model`: the per-model routes, its paths and bodies only."""
    versions = sorted(versions)
    labels = sorted(labels)
    name = urllib.parse.quote(model, safe="")
    operations = []
    for route, doc, template in _operations(routes):
        if not doc.per_model or "{label}" in template and not labels:
            continue
        parameters = {"version": {"type": "integer", "enum": versions},
                      "label": {"type": "string", "enum": labels}}
        if "version" in doc.parameters:  # the protocol's version: a number or a label
            parameters["version"] = {"type": "string",
                                     "enum": [str(version) for version in versions] + labels}
        operations.append((route, _with_parameters(doc, parameters), template,
                           template.replace("{model}", name)))
    components, examples = model_components(signature_defs)
    return _document(f"{TITLE}: model {model}",
                     f"The REST endpoints of model {model!r}; bodies reflect the signatures of "
                     f"its latest version (versions served: {versions or 'none'}).",
                     operations, components, examples, requires_token)


def path_parameters(path: str) -> list[str]:
    """The parameter names of an OpenAPI path template, in order."""
    return _PARAMETER.findall(path)


def _operations(routes: Sequence) -> list[tuple[object, OperationDoc, str]]:
    """(route, doc, path template) for every path of every route."""
    operations = []
    for route in routes:
        if not isinstance(route.doc, OperationDoc):
            raise ValueError(f"route {route.method} {route.pattern.pattern} has no OperationDoc; "
                             "every route must be documented")
        operations += [(route, route.doc, path) for path in route.doc.paths]
    return operations


def _with_parameters(doc: OperationDoc, parameters: Mapping) -> OperationDoc:
    return dataclasses.replace(doc, parameters={**doc.parameters, **parameters})


def _document(title: str, description: str, operations, components: dict, examples: dict,
              requires_token: bool) -> dict:
    paths: dict[str, dict] = {}
    for route, doc, template, path in operations:
        paths.setdefault(path, {})[route.method.lower()] = _operation(
            route, doc, template, path, examples, requires_token)
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": serving.__version__, "description": description},
        "paths": paths,
        "components": {"schemas": components},
    }
    if requires_token:
        document["components"]["securitySchemes"] = {
            _SECURITY_SCHEME: {"type": "http", "scheme": "bearer",
                               "description": "The token of --auth_token_file."}}
    return document


def _operation(route, doc: OperationDoc, template: str, path: str, examples: dict,
               requires_token: bool) -> dict:
    names = path_parameters(path)
    operation = {
        "operationId": _operation_id(doc, template),
        "summary": doc.summary,
        "tags": [doc.tag],
        "responses": _responses(doc),
    }
    if doc.description:
        operation["description"] = doc.description
    if names:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True,
             "schema": dict(doc.parameters.get(name) or PATH_PARAMETERS[name])}
            for name in names]
    if doc.request:
        media = {"schema": _ref(doc.request)}
        if doc.request in examples:
            media["example"] = examples[doc.request]
        operation["requestBody"] = {"required": True, "content": {JSON: media}}
    if requires_token and not route.endpoint.public:
        operation["security"] = [{_SECURITY_SCHEME: []}]
    return operation


def _operation_id(doc: OperationDoc, template: str) -> str:
    names = path_parameters(template)
    if "version" in names:
        return doc.operation_id + "Version"
    if "label" in names:
        return doc.operation_id + "Label"
    index = doc.paths.index(template)
    return doc.operation_id if index == 0 else f"{doc.operation_id}{index + 1}"


def _responses(doc: OperationDoc) -> dict:
    if doc.response_media == JSON:
        content = {JSON: {"schema": _ref(doc.response)}} if doc.response else {}
    else:
        content = {doc.response_media: {"schema": (_ref(doc.response) if doc.response
                                                   else {"type": "string"})}}
    if doc.binary:
        content[BINARY] = {"schema": {"type": "string", "format": "binary"}}
    description = doc.summary + (". With binary outputs (application/octet-stream): the JSON "
                                 "header, Inference-Header-Content-Length bytes long, then the "
                                 "raw tensors" if doc.binary else "")
    responses = {"200": {"description": description, **({"content": content} if content else {})}}
    for status, schema in sorted(doc.responses.items()):
        responses[str(status)] = {"description": doc.summary,
                                  "content": {JSON: {"schema": _ref(schema)}}}
    responses["default"] = {"description": 'An error: {"error": message}.',
                            "content": {JSON: {"schema": _ref("Error")}}}
    return responses


def _ref(component: str) -> dict:
    return {"$ref": f"#/components/schemas/{component}"}

