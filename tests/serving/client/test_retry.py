"""Retries on UNAVAILABLE only, and deadlines on every call, against real sockets."""

import threading
import time

import pytest
from tests.support.server_harness import free_port

from serving import errors, flags
from tfzoo_client import AsyncClient, Client, RetryPolicy
from serving.server import ModelServer


def test_predict_retries_until_a_server_that_starts_late_answers(client_models):
    port = free_port()
    options = flags.parse_flags([f"--model_base_path={client_models / 'half_plus_two'}", "--model_name=late",
                                 f"--port={port}", "--grpc_bind_address=127.0.0.1", "--shutdown_grace_seconds=0",
                                 "--file_system_poll_wait_seconds=0"])
    server = ModelServer(options)
    starter = threading.Timer(1.5, server.start)
    starter.start()
    try:
        retry = RetryPolicy(max_attempts=30, initial_backoff=0.1, max_backoff=0.5)
        with Client(f"127.0.0.1:{port}", retry=retry, timeout=30.0) as client:
            began = time.monotonic()
            assert client.predict("late", [2.0])["y"].tolist() == [5.0]  # latest: 2x + 1
            assert time.monotonic() - began >= 1.0
    finally:
        starter.join()
        server.stop(grace=0)


def test_without_retries_unavailable_fails_at_once():
    with Client(f"127.0.0.1:{free_port()}", retry=RetryPolicy(max_attempts=1), timeout=10.0) as client:
        began = time.monotonic()
        with pytest.raises(errors.Unavailable):
            client.status("any")
        assert time.monotonic() - began < 2.0


def test_retries_end_at_the_calls_deadline_with_the_last_error():
    retry = RetryPolicy(max_attempts=100, initial_backoff=0.1, max_backoff=0.2)
    with Client(f"127.0.0.1:{free_port()}", retry=retry, timeout=1.0) as client:
        began = time.monotonic()
        with pytest.raises(errors.Unavailable):
            client.status("any")
        assert 0.7 <= time.monotonic() - began < 3.0


def test_call_to_a_model_slower_than_the_deadline_is_deadline_exceeded(client_server):
    with Client(client_server.target, timeout=0.4) as client:
        client.metadata("sleepy")  # cached: only the predict itself runs against the deadline
        began = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded) as exceeded:
            client.predict("sleepy", [1.0])
        assert exceeded.value.code.name == "DEADLINE_EXCEEDED"
        assert time.monotonic() - began < 0.9


def test_a_methods_own_timeout_overrides_the_clients(client_server):
    with Client(client_server.target, timeout=60.0) as client:
        with pytest.raises(errors.DeadlineExceeded):
            client.predict("sleepy", [1.0], timeout=0.3)
        assert client.predict("sleepy", [1.0], timeout=10.0)["y"].tolist() == [1.0]


def test_async_call_exceeds_its_deadline_too(client_server):
    import asyncio

    async def call():
        async with AsyncClient(client_server.target, timeout=0.3) as client:
            await client.predict("sleepy", [1.0])

    with pytest.raises(errors.DeadlineExceeded):
        asyncio.run(call())


def test_retry_policy_validates_its_arguments():
    with pytest.raises(ValueError, match="max_attempts must be >= 1. Received: max_attempts=0"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="initial_backoff <= max_backoff"):
        RetryPolicy(initial_backoff=2.0, max_backoff=1.0)


def test_backoffs_grow_to_the_maximum_within_the_jitter():
    waits = list(RetryPolicy(max_attempts=6, initial_backoff=0.1, max_backoff=0.5, jitter=0.1).backoffs())
    assert len(waits) == 5
    for wait, base in zip(waits, [0.1, 0.2, 0.4, 0.5, 0.5]):
        assert base * 0.9 <= wait <= base * 1.1
