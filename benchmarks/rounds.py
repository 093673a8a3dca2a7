"""Rounds: the benchmarks run every level several times and report each level's median.

On a shared 2-core machine the same server measures up to 30% apart from one minute to the next.
So serving.py, peers.py and rest.py keep every server up at once, let them take turns at each
level, run the whole grid `--rounds` times, and summarize each level by `median_rows`.
"""

from __future__ import annotations

import statistics
from typing import Iterable, Sequence


def median_rows(runs: Sequence[dict], group_by: Sequence[str], medians: Sequence[str],
                sums: Sequence[str] = (), highest: Sequence[str] = (),
                merged_counts: Sequence[str] = (), firsts: Sequence[str] = ()) -> list[dict]:
    """One row per level: the runs that agree on every field of `group_by` (its last one the
    concurrency), with `rounds` (how many runs), the median of each field in `medians` over the
    runs that measured it, the total of each in `sums`, the highest of each in `highest`, each
    dict of counts in `merged_counts` added up, and each field in `firsts` (an error message,
    say) from the first run that has it. Rows come in the order their levels first ran, grouped
    by everything but the last field: each server's levels together."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault(tuple(run[field] for field in group_by), []).append(run)
    prefixes = list(dict.fromkeys(key[:-1] for key in groups))
    lasts = list(dict.fromkeys(key[-1] for key in groups))
    rows = []
    for key, group in sorted(groups.items(), key=lambda item: (prefixes.index(item[0][:-1]),
                                                               lasts.index(item[0][-1]))):
        row = {**dict(zip(group_by, key)), "rounds": len(group)}
        row.update({field: median_of_known(run.get(field) for run in group) for field in medians})
        row.update({field: sum(run.get(field) or 0 for run in group) for field in sums})
        row.update({field: max((run.get(field) or 0 for run in group), default=0)
                    for field in highest})
        for field in merged_counts:
            counts: dict = {}
            for run in group:
                for name, count in (run.get(field) or {}).items():
                    counts[name] = counts.get(name, 0) + count
            row[field] = counts
        for field in firsts:
            found = next((run[field] for run in group if run.get(field) is not None), None)
            if found is not None:
                row[field] = found
        rows.append(row)
    return rows


def median_of_known(values: Iterable) -> float | None:
    """The median of the values that are not None (None when none is known)."""
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None
