"""The mixture builder's errors: all are `EcomGPTError`s (user-fixable; commands print them as one line)."""

from __future__ import annotations

from ecomgpt_core.errors import EcomGPTError


class BuildError(EcomGPTError):
    """The mixture cannot be built as asked."""


class ConfigError(BuildError):
    """A mixture option or YAML key is invalid; the message names the key."""


class HeldOutSourceError(BuildError):
    """A source would read a held-out evaluation dataset."""


class JsonlSourceError(BuildError):
    """A `jsonl_sources` entry is unusable."""


class RawDataError(BuildError):
    """A malformed raw record, naming where it is and what is wrong."""

    def __init__(self, origin: str, reason: str):
        super().__init__(f"{origin}: {reason}")
        self.origin, self.reason = origin, reason
