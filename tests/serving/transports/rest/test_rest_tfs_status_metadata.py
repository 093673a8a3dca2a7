"""GET /v1/models/NAME[/versions/N|/labels/L][/metadata]: GetModelStatus and GetModelMetadata as
TF Serving's REST layer prints them."""

from google.protobuf import json_format


def _status(version: int) -> dict:
    return {"version": str(version), "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""}}


def test_status_lists_every_version_as_tf_serving_prints_it(rest):
    reply = rest.get("/v1/models/half_plus_two")
    assert reply.status == 200
    assert reply.json() == {"model_version_status": [_status(1), _status(2)]}


def test_status_of_one_version(rest):
    assert rest.get("/v1/models/half_plus_two/versions/2").json() == {
        "model_version_status": [_status(2)]}


def test_status_with_a_label_answers_like_grpc_get_model_status(rest):
    # TF Serving's GetModelStatus narrows only on an explicit version, not on a label.
    assert rest.get("/v1/models/half_plus_two/labels/stable").json() == {
        "model_version_status": [_status(1), _status(2)]}


def test_status_of_unknown_model_is_404(rest):
    reply = rest.get("/v1/models/unknown")
    assert reply.status == 404
    assert reply.error.startswith("Could not find any versions of model unknown")


def test_status_of_unknown_version_is_404(rest):
    reply = rest.get("/v1/models/half_plus_two/versions/7")
    assert (reply.status, reply.error) == (404, "Could not find version 7 of model half_plus_two")


def test_models_path_without_a_name_says_the_name_is_missing(rest):
    reply = rest.get("/v1/models")
    assert (reply.status, reply.error) == (400, "Missing model name in request.")


def test_metadata_is_the_signature_def_map_with_every_field(rest_server, rest):
    reply = rest.get("/v1/models/half_plus_two/versions/1/metadata")
    assert reply.status == 200
    document = reply.json()
    assert document["model_spec"] == {"name": "half_plus_two", "signature_name": "", "version": "1"}
    assert list(document["metadata"]) == ["signature_def"]
    with rest_server.manager.servable("half_plus_two", 1) as servable:
        expected = {key: json_format.MessageToDict(signature, always_print_fields_with_no_presence=True,
                                                   preserving_proto_field_name=True)
                    for key, signature in servable.signature_defs.items()}
    assert document["metadata"]["signature_def"] == {"signature_def": expected}
    serving_default = expected["serving_default"]
    assert serving_default["inputs"]["x"]["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}],
                                                             "unknown_rank": False}
    assert serving_default["defaults"] == {}


def test_metadata_of_latest_and_of_a_label(rest):
    assert rest.get("/v1/models/half_plus_two/metadata").json()["model_spec"]["version"] == "2"
    assert rest.get("/v1/models/half_plus_two/labels/stable/metadata").json()["model_spec"][
        "version"] == "1"


def test_metadata_of_unknown_model_is_404(rest):
    reply = rest.get("/v1/models/unknown/metadata")
    assert (reply.status, reply.error) == (404, "Servable not found for request: Latest(unknown)")
