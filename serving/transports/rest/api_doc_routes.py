"""The routes that describe the REST API: its OpenAPI documents and, with --rest_api_docs, the
docs page.

    GET /v1/openapi.json                  the whole REST API (openapi_document.py)
    GET /v1/models/NAME/openapi.json      one model, bodies from its signatures
    GET /docs, /docs/ASSET                Swagger UI on those documents (--rest_api_docs)

The documents are made from the route table the dispatcher serves (the routes given here plus
these), on each request, so they follow config reloads. None of these routes is public: with
--auth_token_file they need the token like the API itself, so the page never lets anyone past it.
"""

from __future__ import annotations

import re
from typing import Sequence

from serving import errors
from serving.apis import endpoints
from serving.transports.rest import swagger_ui
from serving.transports.rest.dispatcher import Route
from serving.transports.rest.messages import RestRequest, RestResponse, json_response
from serving.transports.rest.openapi_document import model_openapi_document, openapi_document
from serving.transports.rest.openapi_operation import (HTML, JSON, MODEL_PARAMETER, SERVER_TAG,
                                                       OperationDoc)

SPEC_PATH = "/v1/openapi.json"
_MODEL = {"model": {**MODEL_PARAMETER, "pattern": "^[^/:]+$"}}

SPEC_DOC = OperationDoc("openApiDocument", "This document: the OpenAPI 3.1 description of the "
                        "REST API", SERVER_TAG, (SPEC_PATH,), response_media=JSON)
MODEL_SPEC_DOC = OperationDoc(
    "modelOpenApiDocument", "One model's OpenAPI document", SERVER_TAG,
    ("/v1/models/{model}/openapi.json",),
    "The model's endpoints with request and response bodies made from its signatures (names, "
    "dtypes, shapes) and its versions and labels.", parameters=_MODEL)
DOCS_PAGE_DOC = OperationDoc("docsPage", "The interactive API reference (Swagger UI)", SERVER_TAG,
                             (swagger_ui.DOCS_PATH,), response_media=HTML)
DOCS_ASSET_DOC = OperationDoc(
    "docsAsset", "A file of the docs page", SERVER_TAG, (swagger_ui.DOCS_PATH + "/{asset}",),
    parameters={"asset": {"enum": sorted([*swagger_ui.ASSETS, swagger_ui.INITIALIZER])}},
    response_media="*/*")


def api_doc_routes(routes: Sequence[Route], manager, *, requires_token: bool,
                   docs_page: bool) -> list[Route]:
    """The document routes (and the docs page's when `docs_page`) for a REST port serving
    `routes` from `manager`; `requires_token` documents the bearer token.

    Raises:
        ServerStartError: `docs_page` without the Swagger UI files.
    """
    own: list[Route] = []
    served = [*routes]  # the table the documents describe: `routes` and `own`, filled below

    def whole_api(request: RestRequest, params: dict, call) -> RestResponse:
        return json_response(openapi_document(served, requires_token=requires_token))

    def one_model(request: RestRequest, params: dict, call) -> RestResponse:
        name = params["model"]
        call.target(name)
        with manager.servable(name) as servable:
            signature_defs = dict(servable.signature_defs)
        versions = manager.available_versions(name)
        return json_response(model_openapi_document(
            served, name, signature_defs, versions, manager.labels(name),
            requires_token=requires_token))

    own += [
        Route("GET", re.compile(re.escape(SPEC_PATH)), whole_api, endpoints.OPENAPI,
              model_call=False, doc=SPEC_DOC),
        Route("GET", re.compile(r"/v1/models/(?P<model>[^/:]+)/openapi\.json"), one_model,
              endpoints.OPENAPI, model_call=False, doc=MODEL_SPEC_DOC),
    ]
    if docs_page:
        own += _docs_page_routes(manager)
    served += own
    return own


def _docs_page_routes(manager) -> list[Route]:
    swagger_ui.check_installed()

    def page(request: RestRequest, params: dict, call) -> RestResponse:
        return RestResponse(body=swagger_ui.PAGE, content_type="text/html; charset=utf-8")

    def asset(request: RestRequest, params: dict, call) -> RestResponse:
        name = params["asset"]
        if name == swagger_ui.INITIALIZER:
            return RestResponse(body=swagger_ui.initializer(manager.model_names(), SPEC_PATH),
                                content_type=swagger_ui.ASSETS["swagger-ui-bundle.js"])
        if name not in swagger_ui.ASSETS:
            raise errors.NotFound(f"The docs page has no file {name!r}")
        return RestResponse(body=swagger_ui.asset(name), content_type=swagger_ui.ASSETS[name])

    return [
        Route("GET", re.compile(re.escape(swagger_ui.DOCS_PATH) + "/?"), page, endpoints.API_DOCS,
              model_call=False, doc=DOCS_PAGE_DOC),
        Route("GET", re.compile(re.escape(swagger_ui.DOCS_PATH) + r"/(?P<asset>[^/]+)"), asset,
              endpoints.API_DOCS, model_call=False, doc=DOCS_ASSET_DOC),
    ]
