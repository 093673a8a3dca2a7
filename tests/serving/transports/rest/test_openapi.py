"""The REST port's OpenAPI documents, read from the shared real server: every route documented and
every documented path routed, valid OpenAPI 3.1, a model's document made from its signatures,
the bearer token, and the docs page off by default."""

import re

import jsonschema
import pytest
from openapi_spec_validator import validate
from tests.support.rest_harness import RestClient
from tests.support.server_harness import free_port

from serving import flags
from serving.server import ModelServer
from serving.transports.rest.openapi_document import path_parameters

# A value for each path parameter, so a documented path can be turned into a request path.
SAMPLE_PARAMETERS = {"model": "half_plus_two", "version": "1", "label": "stable",
                     "asset": "swagger-ui.css", "region": "input0"}
MULTI_IO_ROW = {"instances": [{"features": [1.0, 2.0, 3.0], "ids": 4, "names": "a"}]}


def _request_path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: SAMPLE_PARAMETERS[match.group(1)], template)


def _routed(routes, method: str, path: str):
    """The route the dispatcher picks for `method path` (the first whose pattern matches)."""
    return next((route for route in routes
                 if route.method == method and route.pattern.fullmatch(path)), None)


def _validator(document: dict, component: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def routes(rest_server):
    return rest_server.server.rest.dispatcher.routes


@pytest.fixture(scope="module")
def document(rest):
    reply = rest.get("/v1/openapi.json")
    assert reply.status == 200
    return reply.json()


def test_every_route_is_documented_and_each_of_its_paths_reaches_it(routes, document):
    for route in routes:
        assert route.doc is not None, f"{route.method} {route.pattern.pattern} is undocumented"
        for template in route.doc.paths:
            assert route.method.lower() in document["paths"][template]
            assert _routed(routes, route.method, _request_path(template)) is route, template


def test_every_documented_path_is_routed_to_a_route_that_documents_it(routes, document):
    for template, operations in document["paths"].items():
        for method in operations:
            route = _routed(routes, method.upper(), _request_path(template))
            assert route is not None and template in route.doc.paths, (method, template)


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_model_document_is_valid_openapi_3_1(rest, rest_models):
    for model in rest_models:
        reply = rest.get(f"/v1/models/{model}/openapi.json")
        assert reply.status == 200, model
        validate(reply.json())


def test_a_model_document_holds_that_models_paths_versions_and_labels(rest):
    document = rest.get("/v1/models/half_plus_two/openapi.json").json()
    assert "/v1/models/half_plus_two:predict" in document["paths"]
    assert "/v2/models/half_plus_two/infer" in document["paths"]
    assert not [path for path in document["paths"] if "multi_io" in path or "{model}" in path]
    parameters = {parameter["name"]: parameter["schema"]
                  for operation in document["paths"].values() for method in operation.values()
                  for parameter in method.get("parameters", [])}
    assert parameters["version"]["enum"] in ([1, 2], ["1", "2", "canary", "stable"])
    assert parameters["label"]["enum"] == ["canary", "stable"]


def test_a_model_document_describes_its_signatures_inputs(rest):
    document = rest.get("/v1/models/multi_io/openapi.json").json()
    request = _validator(document, "PredictRequest")
    assert request.is_valid(MULTI_IO_ROW)
    assert request.is_valid({"signature_name": "sum_only", "inputs": {"features": [[1.0, 2.0, 3.0]]}})
    assert not request.is_valid({"instances": [{"features": [1.0, 2.0], "ids": 4, "names": "a"}]})
    assert not request.is_valid({"instances": [{"features": [1.0, 2.0, 3.0], "ids": 0.5,
                                                "names": "a"}]})
    assert not request.is_valid({"signature_name": "no_such_signature", "instances": [1.0]})


def test_real_answers_match_the_model_documents_response_schemas(rest):
    document = rest.get("/v1/models/multi_io/openapi.json").json()
    row = rest.post("/v1/models/multi_io:predict", MULTI_IO_ROW)
    columnar = rest.post("/v1/models/multi_io:predict",
                         {"inputs": {"features": [[1.0, 2.0, 3.0]], "ids": [4], "names": ["a"]}})
    infer = rest.post("/v2/models/multi_io/infer", {"inputs": [
        {"name": "features", "shape": [1, 3], "datatype": "FP32", "data": [1.0, 2.0, 3.0]},
        {"name": "ids", "shape": [1], "datatype": "INT64", "data": [4]},
        {"name": "names", "shape": [1], "datatype": "BYTES", "data": ["a"]}]})
    for reply, component in ((row, "PredictResponse"), (columnar, "PredictResponse"),
                             (infer, "OipInferResponse")):
        assert reply.status == 200
        _validator(document, component).validate(reply.json())


def test_the_model_documents_example_request_is_answered(rest):
    document = rest.get("/v1/models/multi_io/openapi.json").json()
    operation = document["paths"]["/v1/models/multi_io:predict"]["post"]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    assert rest.post("/v1/models/multi_io:predict", example).status == 200


def test_an_unknown_models_document_is_a_404_error(rest):
    reply = rest.get("/v1/models/no_such_model/openapi.json")
    assert reply.status == 404
    assert "no_such_model" in reply.error


def test_the_docs_page_is_off_by_default(rest, document):
    assert rest.get("/docs").status == 404
    assert "/docs" not in document["paths"]


@pytest.fixture(scope="module")
def token_server(rest_models, tmp_path_factory):
    token_file = tmp_path_factory.mktemp("token") / "token"
    token_file.write_text("s3cret\n")
    server = ModelServer(flags.parse_flags([
        "--model_name=half_plus_two", f"--model_base_path={rest_models['half_plus_two']}",
        "--port=0", f"--grpc_socket_path={tmp_path_factory.mktemp('socket') / 'grpc.sock'}",
        "--grpc_bind_address=127.0.0.1", f"--rest_api_port={free_port()}",
        f"--auth_token_file={token_file}", "--rest_api_docs", "--file_system_poll_wait_seconds=0"]))
    server.start()
    yield RestClient(server.rest.port)
    server.stop(grace=0)


def test_with_a_token_the_documents_and_docs_page_need_it_too(token_server):
    for path in ("/v1/openapi.json", "/v1/models/half_plus_two/openapi.json", "/docs",
                 "/docs/swagger-ui.css"):
        assert token_server.get(path).status == 401, path
        assert token_server.get(path, headers={"Authorization": "Bearer s3cret"}).status == 200


def test_with_a_token_every_operation_but_the_public_ones_requires_it(token_server):
    document = token_server.get("/v1/openapi.json", headers={"Authorization": "Bearer s3cret"}).json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "The token of --auth_token_file."}
    public = {(path, method) for path, operations in document["paths"].items()
              for method, operation in operations.items() if "security" not in operation}
    assert public == {("/v2/health/live", "get"), ("/v2/health/ready", "get")}
    validate(document)


def test_path_parameters_are_read_from_templates():
    assert path_parameters("/v1/models/{model}/versions/{version}:predict") == ["model", "version"]
