"""Model config files in TF Serving's text format: parsing, validation and error messages."""

import os

import pytest
from tensorflow_serving.config import file_system_storage_path_source_pb2

from serving import errors
from serving.apis.tfs import model_config as config_lib
from serving.core import VersionPolicy

ServableVersionPolicy = (
    file_system_storage_path_source_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy)

GOOD_CONFIG = """
model_config_list {
  config {
    name: "half"
    base_path: "/models/half"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config {
    name: "other"
    base_path: "relative/other"
  }
}
"""


def test_good_config_parses_every_field():
    config = config_lib.parse_model_config_text(GOOD_CONFIG)
    half, other = config.model_config_list.config
    assert half.name == "half"
    assert half.base_path == "/models/half"
    assert list(half.model_version_policy.specific.versions) == [1, 2]
    assert dict(half.version_labels) == {"stable": 1, "canary": 2}
    assert other.name == "other"


def test_relative_base_path_is_resolved_against_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = config_lib.parse_model_config_text(GOOD_CONFIG)
    assert config.model_config_list.config[1].base_path == os.path.join(tmp_path, "relative/other")


def test_syntax_error_names_file_line_and_field(tmp_path):
    path = tmp_path / "models.config"
    path.write_text('model_config_list {\n  config {\n    name: "a"\n    bse_path: "/x"\n  }\n}\n')
    with pytest.raises(errors.InvalidArgument) as caught:
        config_lib.load_model_config_file(str(path))
    assert caught.value.message.startswith(
        "Error parsing text-format tensorflow.serving.ModelServerConfig: 4:5: ")
    assert str(path) in caught.value.message and "bse_path" in caught.value.message


def test_duplicate_model_names_are_refused_naming_both_entries():
    text = ('model_config_list { config { name: "a" base_path: "/a" } '
            'config { name: "a" base_path: "/b" } }')
    with pytest.raises(errors.InvalidArgument) as caught:
        config_lib.parse_model_config_text(text, source="m.config")
    assert caught.value.message == (
        "m.config: model_config_list.config[1].name: duplicate model name 'a' "
        "(already used by model_config_list.config[0])")


def test_missing_config_file_is_not_found_with_path(tmp_path):
    path = tmp_path / "absent.config"
    with pytest.raises(errors.NotFound, match=f"Model config file not found: {path}"):
        config_lib.load_model_config_file(str(path))


def test_empty_base_path_is_refused_naming_model_and_field():
    with pytest.raises(errors.InvalidArgument,
                       match=r"config\[0\] \(model 'a'\)\.base_path is empty"):
        config_lib.parse_model_config_text('model_config_list { config { name: "a" } }')


def test_empty_model_name_is_refused():
    with pytest.raises(errors.InvalidArgument, match=r"config\[0\]\.name is empty"):
        config_lib.parse_model_config_text('model_config_list { config { base_path: "/a" } }')


def test_other_model_platform_is_refused_with_received_value():
    text = 'model_config_list { config { name: "a" base_path: "/a" model_platform: "onnx" } }'
    with pytest.raises(errors.InvalidArgument, match="Received: model_platform='onnx'"):
        config_lib.parse_model_config_text(text)


def test_custom_model_config_is_refused_with_alternative():
    text = 'custom_model_config { type_url: "type.googleapis.com/some.CustomConfig" }'
    with pytest.raises(errors.InvalidArgument, match="custom_model_config is not supported"):
        config_lib.parse_model_config_text(text)


def test_label_outside_specific_versions_is_refused():
    text = ('model_config_list { config { name: "a" base_path: "/a" '
            'model_version_policy { specific { versions: 1 } } '
            'version_labels { key: "canary" value: 3 } } }')
    with pytest.raises(errors.InvalidArgument,
                       match=r"version_labels\['canary'\] points to version 3"):
        config_lib.parse_model_config_text(text)


def test_single_model_config_is_latest_policy_with_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = config_lib.single_model_config("m", "models/m")
    (model,) = config.model_config_list.config
    assert (model.name, model.base_path) == ("m", os.path.join(tmp_path, "models/m"))
    assert model.model_version_policy.WhichOneof("policy_choice") is None


def test_validate_does_not_modify_its_argument():
    config = config_lib.single_model_config("m", "/m")
    config.model_config_list.config[0].base_path = "relative"
    config_lib.validate_model_server_config(config)
    assert config.model_config_list.config[0].base_path == "relative"


def test_custom_model_config_with_unknown_payload_type_is_refused_the_same_way():
    text = 'custom_model_config {\n  [type.googleapis.com/some.CustomConfig] { x: 1 }\n}\n'
    with pytest.raises(errors.InvalidArgument, match="custom_model_config is not supported"):
        config_lib.parse_model_config_text(text)


# model_version_policy, read into the manager's VersionPolicy as model_configs does.
def test_unset_policy_serves_the_latest_version():
    policy = config_lib.version_policy(ServableVersionPolicy())
    assert policy.select([1, 5, 3]) == {5}


def test_latest_policy_serves_the_highest_n_versions():
    proto = ServableVersionPolicy(latest=ServableVersionPolicy.Latest(num_versions=2))
    assert config_lib.version_policy(proto).select([1, 5, 3]) == {3, 5}


def test_latest_zero_versions_means_one_as_in_tf_serving():
    proto = ServableVersionPolicy(latest=ServableVersionPolicy.Latest(num_versions=0))
    assert config_lib.version_policy(proto).select([1, 2]) == {2}


def test_all_policy_serves_every_version():
    proto = ServableVersionPolicy(all=ServableVersionPolicy.All())
    assert config_lib.version_policy(proto).select([1, 5, 3]) == {1, 3, 5}


def test_specific_policy_serves_listed_versions_that_exist():
    proto = ServableVersionPolicy(specific=ServableVersionPolicy.Specific(versions=[1, 4]))
    assert config_lib.version_policy(proto).select([1, 2, 3]) == {1}
