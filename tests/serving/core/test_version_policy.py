"""Version policies and version directory discovery (no TensorFlow needed)."""

import pytest
from tensorflow_serving.config import file_system_storage_path_source_pb2

from serving.core.version_dirs import find_version_dirs, version_dir_fingerprint
from serving.core.version_policy import VersionPolicy

ServableVersionPolicy = (
    file_system_storage_path_source_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy)


def test_unset_policy_serves_the_latest_version():
    policy = VersionPolicy.from_proto(ServableVersionPolicy())
    assert policy.select([1, 5, 3]) == {5}


def test_latest_policy_serves_the_highest_n_versions():
    proto = ServableVersionPolicy(latest=ServableVersionPolicy.Latest(num_versions=2))
    assert VersionPolicy.from_proto(proto).select([1, 5, 3]) == {3, 5}


def test_latest_zero_versions_means_one_as_in_tf_serving():
    proto = ServableVersionPolicy(latest=ServableVersionPolicy.Latest(num_versions=0))
    assert VersionPolicy.from_proto(proto).select([1, 2]) == {2}


def test_all_policy_serves_every_version():
    proto = ServableVersionPolicy(all=ServableVersionPolicy.All())
    assert VersionPolicy.from_proto(proto).select([1, 5, 3]) == {1, 3, 5}


def test_specific_policy_serves_listed_versions_that_exist():
    proto = ServableVersionPolicy(specific=ServableVersionPolicy.Specific(versions=[1, 4]))
    assert VersionPolicy.from_proto(proto).select([1, 2, 3]) == {1}


def test_unknown_policy_kind_is_refused():
    with pytest.raises(ValueError, match="Received: kind='newest'"):
        VersionPolicy(kind="newest")


def test_version_dirs_are_integer_named_directories_only(tmp_path):
    for name in ("1", "0010", "tmp", ".staging-2", "3a"):
        (tmp_path / name).mkdir()
    (tmp_path / "7").write_text("a file, not a version")
    assert find_version_dirs(str(tmp_path)) == {1: str(tmp_path / "1"), 10: str(tmp_path / "0010")}


def test_missing_base_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_version_dirs(str(tmp_path / "absent"))


def test_fingerprint_changes_when_a_file_is_rewritten(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"broken")
    before = version_dir_fingerprint(str(tmp_path))
    (tmp_path / "saved_model.pb").write_bytes(b"fixed, and longer")
    assert version_dir_fingerprint(str(tmp_path)) != before
