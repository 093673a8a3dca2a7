"""AsyncClient: the same methods as Client, on grpc.aio, against a real server."""

import asyncio

import numpy as np
import pytest

from serving import errors
from tfzoo_client import AsyncClient


def run(client_server, use):
    """Runs `use(client)` in a fresh event loop with a client created inside it."""

    async def main():
        async with AsyncClient(client_server.target, timeout=10.0) as client:
            return await use(client)

    return asyncio.run(main())


def test_async_predict_converts_inputs_and_returns_numpy(client_server):
    outputs = run(client_server, lambda c: c.predict("half_plus_two", [1, 2], version=1))
    assert outputs["y"].dtype == np.float32 and outputs["y"].tolist() == [2.5, 3.0]


def test_async_predicts_run_concurrently_on_one_client(client_server):
    async def many(client):
        return await asyncio.gather(*(client.predict("half_plus_two", [float(i)], label="stable")
                                      for i in range(20)))

    results = run(client_server, many)
    assert [r["y"].tolist() for r in results] == [[0.5 * i + 2] for i in range(20)]


def test_async_classify_and_regress(client_server):
    async def both(client):
        return await client.classify("tf1", [{"x": 3.0}]), await client.regress("tf1", [{"x": 2.0}])

    classes, values = run(client_server, both)
    assert classes[0][1].label == "positive" and classes[0][1].score > 0.9
    assert values.tolist() == [3.0]


def test_async_metadata_status_and_wait_until_ready(client_server):
    async def describe(client):
        return (await client.metadata("multi_io"), await client.status("half_plus_two"),
                await client.wait_until_ready("tf1", timeout=5.0))

    metadata, statuses, ready = run(client_server, describe)
    assert metadata.signatures["sum_only"].inputs["features"].shape == (None, 3)
    assert [s.version for s in statuses] == [2, 1]
    assert ready.version == 1


def test_async_errors_are_the_typed_errors(client_server):
    with pytest.raises(errors.NotFound, match=r"Latest\(no_such_model\)"):
        run(client_server, lambda c: c.predict("no_such_model", [1.0]))
    with pytest.raises(errors.InvalidArgument, match="without loss"):
        run(client_server, lambda c: c.predict("half_plus_two", np.array([0.1]), version=1))
