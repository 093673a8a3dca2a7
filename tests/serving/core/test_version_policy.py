"""Version policies and version directory discovery (no TensorFlow needed).

Which versions each policy selects is tested through the manager
(test_manager_versions.py); reading a policy from TF Serving's config, in
tests/serving/apis/tfs/test_model_config.py.
"""

import pytest

from serving.core.version_dirs import find_version_dirs, version_dir_fingerprint
from serving.core.version_policy import VersionPolicy


def test_unknown_policy_kind_is_refused():
    with pytest.raises(ValueError, match="Received: kind='newest'"):
        VersionPolicy(kind="newest")


def test_version_dirs_are_integer_named_directories_only(tmp_path):
    for name in ("1", "0010", "tmp", ".staging-2", "3a"):
        (tmp_path / name).mkdir()
    (tmp_path / "7").write_text("a file, not a version")
    assert find_version_dirs(str(tmp_path)) == {1: str(tmp_path / "1"), 10: str(tmp_path / "0010")}


@pytest.mark.parametrize("saved_model_file", ["saved_model.pb", "saved_model.pbtxt"])
def test_a_bare_saved_model_at_the_base_path_is_version_1(tmp_path, saved_model_file):
    (tmp_path / saved_model_file).write_bytes(b"")
    (tmp_path / "variables").mkdir()
    assert find_version_dirs(str(tmp_path)) == {1: str(tmp_path)}


def test_version_dirs_win_over_a_saved_model_at_the_base_path(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"")
    (tmp_path / "3").mkdir()
    assert find_version_dirs(str(tmp_path)) == {3: str(tmp_path / "3")}


def test_a_base_path_with_neither_has_no_versions(tmp_path):
    (tmp_path / "variables").mkdir()
    assert find_version_dirs(str(tmp_path)) == {}


def test_missing_base_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_version_dirs(str(tmp_path / "absent"))


def test_fingerprint_changes_when_a_file_is_rewritten(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"broken")
    before = version_dir_fingerprint(str(tmp_path))
    (tmp_path / "saved_model.pb").write_bytes(b"fixed, and longer")
    assert version_dir_fingerprint(str(tmp_path)) != before
