"""The scripts under benchmarks/, for the tests that check them (benchmarks/ is not a package).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def script_path(name: str) -> Path:
    """benchmarks/`name`.py."""
    return BENCHMARKS / f"{name}.py"


@contextlib.contextmanager
def imported_script(name: str):
    """benchmarks/`name`.py imported as a module for the duration of the block."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark_script", script_path(name))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)
