"""The transports' event loop: uvloop's where installed, asyncio's otherwise, on a thread of its
own."""

import asyncio
import sys
import threading

import pytest

from serving.transports.event_loops import LoopThread, new_event_loop


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


def test_loop_thread_runs_coroutines_on_its_own_named_thread_until_closed():
    async def thread_name():
        return threading.current_thread().name

    loop_thread = LoopThread("test-loop")
    try:
        assert loop_thread.run(thread_name()) == "test-loop"
    finally:
        loop_thread.close()
    assert loop_thread.closed
    assert "test-loop" not in {thread.name for thread in threading.enumerate()}
