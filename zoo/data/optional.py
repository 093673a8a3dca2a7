"""ZOO_NO_OPTIONAL_DATA: load datasets as on a fresh machine, which has only what pip installs.

Optional data is what `pip install tfzoo` does not bring: Debian's dataset packages
(dataset-fashion-mnist), and whatever keras.datasets has downloaded or would download. A test
that needs it must skip, with the reason, where it is absent; one that loads it unguarded passes
on a machine that has it and fails on a newcomer's. With ZOO_NO_OPTIONAL_DATA=1 the loaders and
their availability checks act as if it were absent — the Debian folders and the keras cache are
not searched, and nothing is downloaded — so a run of the suite in this mode (CI does one)
catches such a test anywhere. Files given with --data-dir are the user's own and still load.
"""

from __future__ import annotations

import os

ENV_VAR = "ZOO_NO_OPTIONAL_DATA"


def optional_data_hidden() -> bool:
    """Whether ZOO_NO_OPTIONAL_DATA is set to anything but "" or "0"."""
    return os.environ.get(ENV_VAR, "") not in ("", "0")


def hidden_note(places: str) -> str:
    """Why a dataset was not found in this mode: `places` are where it would have looked."""
    return f"{ENV_VAR} is set, so {places} are not searched and nothing is downloaded"
