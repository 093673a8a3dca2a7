"""The Prometheus text page, written the way TF Serving writes its own (prometheus_exporter.cc).

prometheus_client's `generate_latest` would name a counter `<name>_total` and add `<name>_created`
series; TF Serving exports `:tensorflow:serving:request_count` as is, and dashboards query that
name. So the families prometheus_client collects are written here with counters under their own
name and no `_created` samples; everything else is Prometheus text format 0.0.4.
"""

from __future__ import annotations

from typing import Iterable

from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render(collectors: Iterable) -> bytes:
    """The text page for every metric family the collectors (objects with `collect()`) yield."""
    lines = []
    for collector in collectors:
        for family in collector.collect():
            lines.extend(_family_lines(family))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _family_lines(family) -> list[str]:
    kind = {"unknown": "untyped", "info": "gauge", "stateset": "gauge"}.get(family.type, family.type)
    lines = [f"# HELP {family.name} {_escape_help(family.documentation)}",
             f"# TYPE {family.name} {kind}"]
    for sample in family.samples:
        name = sample.name
        if name.endswith("_created"):
            continue
        if family.type == "counter" and name == family.name + "_total":
            name = family.name
        labels = ",".join(f'{key}="{_escape_label(value)}"' for key, value in sample.labels.items())
        lines.append(f"{name}{{{labels}}} {floatToGoString(sample.value)}" if labels
                     else f"{name} {floatToGoString(sample.value)}")
    return lines


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r'\"')
