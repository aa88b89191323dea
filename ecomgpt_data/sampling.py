"""Seeded, nested sampling: a bounded sample of the items with the smallest priorities (`ecomgpt_core.hashing.seeded_int`).

Keeping the `size` items with the smallest seeded priority makes a smaller sample a subset of a larger one,
and needs memory for `size` items only, however long the stream.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable


class BoundedSample:
    """The `size` offered items with the smallest priority, at most one per identity. Ties in priority are
    broken by `key`."""

    def __init__(self, size: int):
        self.size = size
        self._heap: list = []  # (-priority, key, identity, item): a max-heap on priority
        self._held: set = set()  # identities in the heap

    def __len__(self) -> int:
        return len(self._heap)

    def verdict(self, priority: int, identity: Hashable) -> str | None:
        """Why an item cannot join ("over_quota", "duplicates": the build's count names), or None when it can."""
        if len(self._heap) >= self.size and -self._heap[0][0] < priority:
            return "over_quota"
        if identity in self._held:
            return "duplicates"
        return None

    def add(self, priority: int, key: str, identity: Hashable, item: object) -> bool:
        """Add an item that `verdict` admitted; True when that pushed another item out."""
        entry = (-priority, key, identity, item)
        self._held.add(identity)
        if len(self._heap) >= self.size:
            self._held.discard(heapq.heapreplace(self._heap, entry)[2])
            return True
        heapq.heappush(self._heap, entry)
        return False

    def items(self) -> list:
        """The kept items, smallest priority first."""
        return [item for _, item in self.entries()]

    def entries(self) -> list[tuple[int, object]]:
        """(priority, item) of the kept items, smallest priority first."""
        return [(-entry[0], entry[3]) for entry in sorted(self._heap, key=lambda entry: (-entry[0], entry[1]))]
