"""ServerOptions: built without a command line, checked the same way, with the derived defaults
the server uses (threads, timeouts, retries, warmup)."""

from __future__ import annotations

import os

import pytest

from serving.options import OptionsError, ServerOptions

MODEL = dict(model_base_path="/models/m")


def test_options_built_without_argv_are_checked_like_flags():
    with pytest.raises(OptionsError, match="--model_config_file cannot be combined with "
                                           "--model_base_path"):
        ServerOptions(model_config_file="/m.config", model_base_path="/m",
                      given=frozenset({"model_config_file", "model_base_path"}))
    with pytest.raises(OptionsError, match="no model to serve"):
        ServerOptions()
    with pytest.raises(OptionsError, match="--port: 70000 is not a port"):
        ServerOptions(port=70000, **MODEL)


def test_version_options_skip_every_other_check():
    assert ServerOptions(version=True).version


def test_grpc_and_rest_threads_default_to_four_per_cpu():
    assert ServerOptions(**MODEL).grpc_threads == 4 * (os.cpu_count() or 1)
    assert ServerOptions(grpc_max_threads=5, **MODEL).grpc_threads == 5
    assert ServerOptions(**MODEL).rest_threads == 4 * (os.cpu_count() or 1)
    assert ServerOptions(rest_api_num_threads=3, **MODEL).rest_threads == 3


def test_rest_timeout_of_zero_or_less_means_no_limit():
    assert ServerOptions(**MODEL).rest_timeout_seconds == 30.0
    assert ServerOptions(rest_api_timeout_in_ms=0, **MODEL).rest_timeout_seconds is None
    assert ServerOptions(rest_api_timeout_in_ms=-5, **MODEL).rest_timeout_seconds is None


def test_load_threads_default_to_four_unless_the_flag_is_given():
    assert ServerOptions(**MODEL).load_threads == 4
    assert ServerOptions(num_load_threads=0, given=frozenset({"num_load_threads"}),
                         **MODEL).load_threads == 1
    assert ServerOptions(num_load_threads=7, given=frozenset({"num_load_threads"}),
                         **MODEL).load_threads == 7


def test_negative_retry_interval_retries_without_waiting():
    assert ServerOptions(**MODEL).load_retry_interval_seconds == 60.0
    assert ServerOptions(load_retry_interval_micros=-1, **MODEL).load_retry_interval_seconds == 0


def test_warmup_runs_each_record_once_unless_more_iterations_are_asked():
    assert ServerOptions(**MODEL).warmup_iterations == 1
    assert ServerOptions(num_request_iterations_for_warmup=3, **MODEL).warmup_iterations == 3
    assert ServerOptions(enable_model_warmup=False, **MODEL).warmup_iterations is None
