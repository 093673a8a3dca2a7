"""Triton's shared memory RPCs are refused at once, with a message saying what to do instead."""

from __future__ import annotations

import base64

import pytest
from tests.support.oip_harness import RPC_TIMEOUT_SECONDS
from tritonclient.utils import InferenceServerException


@pytest.mark.parametrize("call,kind,named", [
    (lambda client: client.register_system_shared_memory("inputs", "/tfzoo_inputs", 64,
                                                         client_timeout=RPC_TIMEOUT_SECONDS),
     "system", "register of region 'inputs'"),
    (lambda client: client.unregister_system_shared_memory(client_timeout=RPC_TIMEOUT_SECONDS),
     "system", "unregister of all regions"),
    (lambda client: client.get_system_shared_memory_status(client_timeout=RPC_TIMEOUT_SECONDS),
     "system", "status of all regions"),
    (lambda client: client.register_cuda_shared_memory("gpu", base64.b64encode(b"handle"), 0, 64,
                                                       client_timeout=RPC_TIMEOUT_SECONDS),
     "CUDA", "register of region 'gpu'"),
    (lambda client: client.unregister_cuda_shared_memory("gpu", client_timeout=RPC_TIMEOUT_SECONDS),
     "CUDA", "unregister of region 'gpu'"),
    (lambda client: client.get_cuda_shared_memory_status(client_timeout=RPC_TIMEOUT_SECONDS),
     "CUDA", "status of all regions"),
])
def test_shared_memory_calls_are_unimplemented_and_say_to_send_tensors_in_requests(triton, call,
                                                                                  kind, named):
    with pytest.raises(InferenceServerException) as raised:
        call(triton)

    assert raised.value.status() == "StatusCode.UNIMPLEMENTED"
    message = raised.value.message()
    assert message.startswith(f"{kind} shared memory is not supported by this server ({named}")
    assert "send tensors in the request itself" in message and "--shared-memory" in message
