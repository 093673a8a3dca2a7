import time

import pytest

from zoo.data import DATASETS, load_dataset
from zoo.data.downloads import host_reachable
from zoo.data.keras_sets import SOURCES, decode_reviews
from zoo.errors import ConfigError, DatasetUnavailableError

NETWORK_DATASETS = ["mnist", "cifar10", "imdb"]


@pytest.mark.parametrize("name", NETWORK_DATASETS)
def test_offline_dataset_fails_fast_with_one_line_saying_where_and_how(
    name, tmp_path, empty_keras_cache, closed_port, optional_data_searched
):
    started = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as raised:
        load_dataset(name, data_dir=str(tmp_path / "missing"), download_origin=f"127.0.0.1:{closed_port}")
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: not in the keras cache ({empty_keras_cache}")
    assert f"cannot reach 127.0.0.1:{closed_port}" in message and "(offline?)" in message
    assert "Run it once with network access" in message


@pytest.mark.parametrize("name", NETWORK_DATASETS)
def test_availability_of_an_uncached_download_says_where_it_looked(name, empty_keras_cache, optional_data_searched):
    available, where = DATASETS[name].availability()
    assert available is False
    assert str(empty_keras_cache) in where and "needs a download" in where


def test_closed_port_is_unreachable_quickly(closed_port):
    started = time.monotonic()
    assert host_reachable("127.0.0.1", closed_port, timeout=2.0) is False
    assert time.monotonic() - started < 2


def test_unresolvable_host_is_unreachable():
    assert host_reachable("no-such-host.invalid", 443, timeout=2.0) is False


def test_malformed_download_origin_is_a_config_error(empty_keras_cache):
    with pytest.raises(ConfigError, match="download_origin must be 'host:port'"):
        load_dataset("mnist", download_origin="localhost")


def test_non_positive_download_timeout_is_a_config_error(empty_keras_cache):
    with pytest.raises(ConfigError, match="download_timeout must be positive. Received: download_timeout=0"):
        load_dataset("mnist", download_timeout=0)


def test_imdb_reviews_decode_to_text_without_start_and_unknown_marks():
    word_index = {"the": 1, "movie": 2, "great": 3}
    texts = decode_reviews([[1, 4, 5, 2, 6], [1, 6]], word_index)
    assert texts.dtype == object
    assert texts.tolist() == ["the movie great", "great"]


@pytest.mark.parametrize("name", NETWORK_DATASETS)
def test_with_optional_data_hidden_the_keras_cache_is_not_used_and_nothing_downloads(
    name, empty_keras_cache, optional_data_hidden
):
    for path in SOURCES[name].cache_paths():  # cached, but hidden
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    available, where = DATASETS[name].availability()
    started = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as raised:
        load_dataset(name, download_origin="no-such-host.invalid:443")
    assert time.monotonic() - started < 1  # no reachability check, no download
    message = str(raised.value)
    assert available is False and "ZOO_NO_OPTIONAL_DATA is set" in where
    assert message.startswith(f"{name}: not loaded; ZOO_NO_OPTIONAL_DATA is set, so the keras cache (")
    assert "nothing is downloaded" in message and "\n" not in message
