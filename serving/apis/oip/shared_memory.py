"""Triton's shared memory extensions, refused: this server takes tensors in requests only.

Triton's clients and perf_analyzer (`--shared-memory system|cuda`) register regions before the
first request; each such call gets UNIMPLEMENTED (HTTP 501) at once with a message naming what
was asked and what to do instead, rather than a bare "method not found".
"""

from __future__ import annotations

from typing import NoReturn

from serving import errors

SYSTEM, CUDA = "system", "CUDA"


def refuse_shared_memory(kind: str, action: str, region: str = "") -> NoReturn:
    """Raises errors.Unimplemented for `action` ("register", "unregister", "status") of the
    `kind` (SYSTEM or CUDA) shared memory region `region` ("" for every region)."""
    target = f"region {region!r}" if region else "all regions"
    raise errors.Unimplemented(
        f"{kind} shared memory is not supported by this server ({action} of {target} refused): "
        "send tensors in the request itself (raw_input_contents over gRPC, binary tensor data "
        "over HTTP). With perf_analyzer, leave out --shared-memory or pass --shared-memory none.")
