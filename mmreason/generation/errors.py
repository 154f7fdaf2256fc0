"""What a generation backend returns for a request that failed after its retries, and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GenerationError:
    """A request that failed after the client's retries."""

    message: str


class ServedGeometryError(ValueError):
    """A served model whose image geometry is not the one the server applies (vLLM's `anyres_max_9`)."""


class UnsupportedRequest(ValueError):
    """A request part or setting the backend cannot honour (e.g. video frames for a server)."""


__all__ = ["GenerationError", "ServedGeometryError", "UnsupportedRequest"]
