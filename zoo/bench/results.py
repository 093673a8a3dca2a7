"""A benchmark's numbers: throughput, latency percentiles and errors per concurrency level."""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from zoo.bench.worker import WorkerReport, merge_errors

PERCENTILES = (50, 90, 99)


@dataclasses.dataclass(frozen=True)
class LevelResult:
    """One concurrency level. Latencies are in milliseconds (None when no request succeeded)."""

    concurrency: int
    duration: float
    batch: int
    requests: int                    # answered without error inside the measured window
    requests_per_second: float
    examples_per_second: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    errors: int
    errors_by_code: dict[str, int]
    error_samples: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class BenchResult:
    server: str
    model: str
    protocol: str
    batch: int
    levels: tuple[LevelResult, ...]

    @property
    def errors(self) -> int:
        return sum(level.errors for level in self.levels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "model": self.model,
            "protocol": self.protocol,
            "batch": self.batch,
            "levels": [level.to_dict() for level in self.levels],
        }


def summarize(concurrency: int, duration: float, batch: int, reports: Sequence[WorkerReport]) -> LevelResult:
    """Merges the workers' reports of one level."""
    completed = sum(report.completed for report in reports)
    latencies = np.array([value for report in reports for value in report.latencies], dtype=np.float64) * 1000
    errors_by_code, samples = merge_errors(reports)
    if latencies.size:
        p50, p90, p99 = (float(v) for v in np.percentile(latencies, PERCENTILES))
        mean = float(latencies.mean())
    else:
        p50 = p90 = p99 = mean = None
    return LevelResult(
        concurrency=concurrency,
        duration=duration,
        batch=batch,
        requests=completed,
        requests_per_second=completed / duration,
        examples_per_second=completed * batch / duration,
        p50_ms=p50,
        p90_ms=p90,
        p99_ms=p99,
        mean_ms=mean,
        errors=sum(errors_by_code.values()),
        errors_by_code=errors_by_code,
        error_samples=samples,
    )
