"""Model metadata kept between calls, so converting a predict's inputs costs no extra round trip.

Entries expire after `ttl` seconds, and are dropped early when a response comes from another
version than the cached one (the server moved to a new version, maybe with a new signature) or
when the server refuses a request the cached signature had let through.
"""

from __future__ import annotations

import threading
import time

from tfzoo_client.messages import ModelRef
from tfzoo_client.metadata import ModelMetadata


class MetadataCache:
    def __init__(self, ttl: float) -> None:
        if ttl < 0:
            raise ValueError(f"metadata_ttl must be >= 0 seconds (0 turns caching off). Received: {ttl}")
        self._ttl = ttl
        self._entries: dict[ModelRef, tuple[float, ModelMetadata]] = {}
        self._lock = threading.Lock()

    def get(self, ref: ModelRef) -> ModelMetadata | None:
        with self._lock:
            entry = self._entries.get(ref)
            if entry is None:
                return None
            expires, metadata = entry
            if time.monotonic() >= expires:
                del self._entries[ref]
                return None
            return metadata

    def put(self, ref: ModelRef, metadata: ModelMetadata) -> None:
        if self._ttl == 0:
            return
        with self._lock:
            self._entries[ref] = (time.monotonic() + self._ttl, metadata)

    def discard(self, ref: ModelRef) -> None:
        with self._lock:
            self._entries.pop(ref, None)

    def check_version(self, ref: ModelRef, served_version: int | None) -> None:
        """Drops the entry if the version that answered is not the one its metadata describes."""
        if served_version is None:
            return
        with self._lock:
            entry = self._entries.get(ref)
            if entry is not None and entry[1].version != served_version:
                del self._entries[ref]
