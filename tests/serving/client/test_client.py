"""Every Client method against a real server on loopback."""

import time

import grpc
import numpy as np
import pytest

from serving import errors
from tfzoo_client import ClassScore, Client, ModelVersionStatus, RetryPolicy


def test_predict_single_input_returns_numpy_outputs(client):
    outputs = client.predict("half_plus_two", [1.0, 2.0], version=1)
    assert list(outputs) == ["y"]
    assert outputs["y"].dtype == np.float32 and outputs["y"].tolist() == [2.5, 3.0]


def test_predict_outputs_are_writable_arrays(client):
    outputs = client.predict("half_plus_two", np.array([1.0], np.float32), version=1)
    outputs["y"] += 1  # a read-only view of the response bytes would raise here
    assert outputs["y"].tolist() == [3.5]


def test_predict_selects_a_version_or_a_label(client):
    assert client.predict("half_plus_two", [1.0], version=2)["y"].tolist() == [3.0]
    assert client.predict("half_plus_two", [1.0], label="stable")["y"].tolist() == [2.5]
    assert client.predict("half_plus_two", [1.0], label="canary")["y"].tolist() == [3.0]
    assert client.predict("half_plus_two", [1.0])["y"].tolist() == [3.0]  # latest


def test_predict_multi_input_converts_each_input_and_decodes_string_outputs(client):
    outputs = client.predict("multi_io", {"features": [[1, 2, 3]], "ids": np.array([4], np.int32),
                                          "names": ["bob"]})
    assert outputs["total"].tolist() == [10.0]
    assert outputs["doubled_ids"].dtype == np.int64 and outputs["doubled_ids"].tolist() == [8]
    assert outputs["greeting"].tolist() == [b"hello bob"]


def test_output_filter_returns_only_the_named_outputs(client):
    outputs = client.predict("multi_io", {"features": [[1, 2, 3]], "ids": [4], "names": ["bob"]},
                             output_filter=["total"])
    assert list(outputs) == ["total"]


def test_predict_runs_another_signature(client):
    assert client.predict("multi_io", [[1.0, 2.0, 3.0]], signature="sum_only")["total"].tolist() == [6.0]


def test_lossy_input_is_refused_before_the_model_runs(client):
    def calls():
        return int(client.predict("counter", {}, signature="call_count")["calls"])

    before = calls()
    with pytest.raises(errors.InvalidArgument, match='"x" takes float32'):
        client.predict("counter", np.array([0.1]))
    assert calls() == before
    client.predict("counter", np.array([0.5]))
    assert calls() == before + 1


def test_request_over_grpc_default_4_mib_limit_goes_through(client):
    values = np.arange(2_000_000, dtype=np.float32)  # 8 MB each way
    outputs = client.predict("half_plus_two", values, version=1)
    np.testing.assert_allclose(outputs["y"][-3:], values[-3:] * 0.5 + 2)


def test_classify_returns_label_and_score_per_class_for_each_example(client):
    results = client.classify("tf1", [{"x": 1.0}, {"x": -1.0}])
    assert [[item.label for item in classes] for classes in results] == [["negative", "positive"]] * 2
    assert isinstance(results[0][0], ClassScore)
    assert results[0][1].score > 0.7 and results[1][1].score < 0.3


def test_classify_merges_a_context_into_every_example(client):
    results = client.classify("tf1", [{}, {}], context={"x": 2.0})
    assert results[0][1].score == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-5)


def test_classify_takes_tensorflows_own_example_messages(client):
    import tensorflow as tf

    example = tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(
        float_list=tf.train.FloatList(value=[1.0]))}))
    assert client.classify("tf1", [example]) == client.classify("tf1", [{"x": 1.0}])


def test_regress_returns_one_float_per_example(client):
    values = client.regress("tf1", [{"x": 1.0}, {"x": np.array([-1.0])}])
    assert values.dtype == np.float32 and values.tolist() == [2.5, 1.5]


def test_classify_without_a_classify_signature_says_which_signatures_exist(client):
    with pytest.raises(errors.FailedPrecondition, match=r"no signature with method tensorflow/serving/classify.*"
                                                        r"serving_default \(tensorflow/serving/predict\)"):
        client.classify("half_plus_two", [{"x": 1.0}])


def test_metadata_describes_signatures_with_dtypes_and_shapes(client):
    metadata = client.metadata("multi_io")
    assert (metadata.name, metadata.version) == ("multi_io", 1)
    assert sorted(metadata.signatures) == ["serving_default", "sum_only"]
    signature = metadata.signatures["serving_default"]
    assert signature.method == "tensorflow/serving/predict"
    features = signature.inputs["features"]
    assert (features.dtype, features.tf_dtype, features.shape) == ("float32", "DT_FLOAT", (None, 3))
    assert signature.inputs["names"].dtype == "string"
    assert signature.outputs["doubled_ids"].dtype == "int64"


def test_metadata_leaves_labels_and_card_empty_when_the_server_does_not_send_them(client):
    metadata = client.metadata("tf1")
    assert metadata.labels is None and metadata.model_card is None
    assert client.metadata("tf1", version=1).signatures["classify"].method == "tensorflow/serving/classify"


def test_status_lists_versions_newest_first(client):
    assert client.status("half_plus_two") == [
        ModelVersionStatus(2, "AVAILABLE", None, ""),
        ModelVersionStatus(1, "AVAILABLE", None, ""),
    ]
    assert [s.version for s in client.status("half_plus_two", version=1)] == [1]


def test_wait_until_ready_returns_the_available_version(client):
    status = client.wait_until_ready("half_plus_two", timeout=5.0)
    assert status.version == 2 and status.is_available


def test_wait_until_ready_gives_up_at_its_timeout_saying_what_it_saw(client):
    started = time.monotonic()
    with pytest.raises(errors.DeadlineExceeded, match=r'"no_such_model" was not ready after 0.5 s.*NOT_FOUND'):
        client.wait_until_ready("no_such_model", timeout=0.5)
    assert time.monotonic() - started < 3.0


def test_unknown_model_is_not_found_with_the_servers_message(client):
    with pytest.raises(errors.NotFound) as not_found:
        client.predict("no_such_model", [1.0])
    assert not_found.value.code == grpc.StatusCode.NOT_FOUND
    assert not_found.value.message == "Servable not found for request: Latest(no_such_model)"


def test_unknown_version_is_not_found_naming_the_version(client):
    with pytest.raises(errors.NotFound, match=r"Specific\(half_plus_two, 7\)"):
        client.predict("half_plus_two", [1.0], version=7)


def test_unknown_signature_is_a_failed_precondition_listing_the_signatures(client):
    with pytest.raises(errors.FailedPrecondition, match='"nope" not found.*serving_default, sum_only'):
        client.predict("multi_io", [[1.0, 2.0, 3.0]], signature="nope")


def test_unknown_output_filter_alias_is_the_servers_invalid_argument(client):
    with pytest.raises(errors.InvalidArgument) as refused:
        client.predict("half_plus_two", [1.0], output_filter=["nope"])
    assert "nope" in refused.value.message


def test_version_and_label_together_are_refused(client):
    with pytest.raises(ValueError, match="version or a label, not both"):
        client.predict("half_plus_two", [1.0], version=1, label="stable")


def test_client_reaches_the_server_over_a_unix_socket(client_server):
    with Client(f"unix:{client_server.socket_path}", retry=RetryPolicy(max_attempts=1)) as client:
        assert client.predict("half_plus_two", [2.0], version=1)["y"].tolist() == [3.0]


def test_malformed_target_is_refused_before_connecting():
    with pytest.raises(ValueError, match="HOST:PORT"):
        Client("localhost")


def test_send_passes_a_request_message_through_and_returns_the_response(client):
    from tensorflow_serving.apis import regression_pb2

    request = regression_pb2.RegressionRequest()
    request.model_spec.name, request.model_spec.signature_name = "tf1", "regress"
    request.input.example_list.examples.add().features.feature["x"].float_list.value.append(4.0)
    response = client.send("Regress", request)
    # The client parses with its own copy of TF Serving's protos (tfzoo_client._proto).
    assert response.DESCRIPTOR.full_name == "tensorflow.serving.RegressionResponse"
    assert response.result.regressions[0].value == pytest.approx(4.0)


def test_send_refuses_a_method_it_cannot_replay():
    with Client("127.0.0.1:1") as client, pytest.raises(ValueError, match="method must be"):
        client.send("HandleReloadConfigRequest", object())
