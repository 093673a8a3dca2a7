"""The client's KServe v2 (Open Inference Protocol) methods against a real server, blocking and
asyncio: infer, model and server readiness."""

import asyncio

import numpy as np
import pytest

from serving import errors
from tfzoo_client import AsyncClient


def test_infer_sends_arrays_and_returns_numpy_outputs(client):
    outputs = client.infer("half_plus_two", {"x": np.array([1.0, 2.0], np.float32)}, version=1)
    assert list(outputs) == ["y"]
    assert outputs["y"].dtype == np.float32 and outputs["y"].tolist() == [2.5, 3.0]


def test_infer_carries_strings_and_integers_and_selects_outputs(client):
    outputs = client.infer("multi_io", {"features": np.array([[1, 2, 3]], np.float32),
                                        "ids": np.array([4], np.int64), "names": ["bob"]},
                           outputs=["greeting", "doubled_ids"])
    assert sorted(outputs) == ["doubled_ids", "greeting"]
    assert outputs["greeting"].tolist() == [b"hello bob"] and outputs["doubled_ids"].tolist() == [8]


def test_infer_sends_each_array_with_its_own_dtype(client):
    """Unlike predict, infer converts nothing: a list of Python floats is FP64."""
    with pytest.raises(errors.InvalidArgument, match="expects datatype FP32, received FP64"):
        client.infer("half_plus_two", {"x": [1.0]})


def test_infer_on_an_unknown_model_is_the_servers_not_found(client):
    with pytest.raises(errors.NotFound):
        client.infer("no_such_model", {"x": [1.0]})


def test_readiness_of_the_server_and_of_models(client):
    assert client.server_live() and client.server_ready()
    assert client.model_ready("half_plus_two") and client.model_ready("half_plus_two", version=2)


def test_async_infer_and_readiness(client_server):
    async def main():
        async with AsyncClient(client_server.target, timeout=10.0) as client:
            return (await client.infer("half_plus_two", {"x": np.array([1.0], np.float32)}, version=2),
                    await client.model_ready("half_plus_two"))

    outputs, ready = asyncio.run(main())
    assert outputs["y"].tolist() == [3.0] and ready
