"""Recognising TensorFlow's C++ log lines in a command's output, and running a command without
the TF_CPP_MIN_LOG_LEVEL the suite's processes inherit (so it runs as a user starts it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# absl's `I0000 00:00:1796435750.042895   26196 port.cc:153] ...` and the notice it prints first.
CPP_LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] |^WARNING: All log messages before absl")


def cpp_log_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if CPP_LOG_LINE.match(line)]


def run_as_a_user(*arguments: str, timeout: float = 600, **popen) -> subprocess.CompletedProcess:
    """`python ARGUMENTS` from the checkout, with TF_CPP_MIN_LOG_LEVEL unset."""
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True, cwd=ROOT,
                          env=user_environment(), timeout=timeout, **popen)


def user_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
