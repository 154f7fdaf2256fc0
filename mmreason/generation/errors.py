"""What a generation backend returns for a request that failed after its retries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GenerationError:
    """A request that failed after the client's retries."""

    message: str


__all__ = ["GenerationError"]
