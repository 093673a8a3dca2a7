"""--prefer_tflite_model, --num_tflite_pools and --num_tflite_interpreters_per_pool."""

from __future__ import annotations

import pytest

from serving import flags
from serving.backends.tflite import TfliteOptions, options_from_flags
from serving.backends.tflite.options import usable_cpu_count

MODEL = ["--model_base_path=/models/m"]


def test_without_prefer_tflite_model_there_are_no_tflite_options():
    assert options_from_flags(flags.parse_flags(MODEL)) is None


def test_defaults_are_one_pool_per_usable_cpu_and_one_interpreter_per_pool():
    options = options_from_flags(flags.parse_flags([*MODEL, "--prefer_tflite_model"]))
    assert options == TfliteOptions(num_pools=usable_cpu_count(), interpreters_per_pool=1)


def test_given_counts_are_used_and_zero_interpreters_means_one():
    given = flags.parse_flags([*MODEL, "--prefer_tflite_model", "--num_tflite_pools=3",
                               "--num_tflite_interpreters_per_pool=4"])
    assert options_from_flags(given) == TfliteOptions(num_pools=3, interpreters_per_pool=4)
    zero = flags.parse_flags([*MODEL, "--prefer_tflite_model=true",
                              "--num_tflite_interpreters_per_pool=0"])
    assert options_from_flags(zero).interpreters_per_pool == 1


@pytest.mark.parametrize("flag", ["num_tflite_pools", "num_tflite_interpreters_per_pool"])
def test_negative_counts_are_refused_in_one_line(flag):
    with pytest.raises(flags.FlagError, match=f"--{flag}: -2 is negative"):
        flags.parse_flags([*MODEL, "--prefer_tflite_model", f"--{flag}=-2"])


def test_tflite_flags_are_implemented_so_they_draw_no_warning():
    given = flags.parse_flags([*MODEL, "--prefer_tflite_model", "--num_tflite_pools=2",
                               "--num_tflite_interpreters_per_pool=2"])
    assert flags.unimplemented_flag_warnings(given) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"num_pools": 0}, "num_pools must be a positive integer. Received: num_pools=0"),
    ({"interpreters_per_pool": 1.5},
     "interpreters_per_pool must be a positive integer. Received: interpreters_per_pool=1.5"),
])
def test_tflite_options_refuse_non_positive_counts(kwargs, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        TfliteOptions(**kwargs)
