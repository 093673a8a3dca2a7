"""The transports' event loop: uvloop's where installed, asyncio's otherwise."""

import asyncio
import sys

import pytest

from serving.transports.event_loops import new_event_loop


def test_new_event_loop_is_uvloops_where_uvloop_is_installed():
    uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed on this platform")
    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop.run_until_complete(asyncio.sleep(0, result="ran")) == "ran"
    finally:
        loop.close()


def test_new_event_loop_falls_back_to_asyncios_without_uvloop(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` now raises ImportError
    loop = new_event_loop()
    try:
        assert loop.__class__.__module__.startswith("asyncio")
    finally:
        loop.close()
