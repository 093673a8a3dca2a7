"""The metrics page one server exports: the process-wide request and batching metrics, plus the
load state of the versions its own manager holds."""

from __future__ import annotations

from serving.metrics.exposition import CONTENT_TYPE, render
from serving.metrics.model_state import ModelStateCollector
from serving.metrics.recorders import REGISTRY

__all__ = ["CONTENT_TYPE", "metrics_page"]


def metrics_page(manager) -> bytes:
    """Prometheus text for `manager`'s server."""
    return render((REGISTRY, ModelStateCollector(manager)))
