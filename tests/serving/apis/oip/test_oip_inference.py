"""The data plane's reading of the protocol's version string."""

from __future__ import annotations

import pytest

from serving import errors
from serving.apis.oip import inference


@pytest.mark.parametrize("text,expected", [
    ("", (None, None)),
    ("  ", (None, None)),
    ("3", (3, None)),
    (" 12 ", (12, None)),
    ("stable", (None, "stable")),
    ("1.5", (None, "1.5")),
    ("٣", (None, "٣")),  # a non-ASCII digit is a label, never version 3
])
def test_version_string_is_latest_a_number_or_a_label(text, expected):
    assert inference.parse_version("m", text) == expected


def test_negative_version_is_invalid_argument_naming_model_and_value():
    with pytest.raises(errors.InvalidArgument, match=r"Model 'm'.*Received: version='-2'"):
        inference.parse_version("m", "-2")
