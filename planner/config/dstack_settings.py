"""The backend settings of a dstack server that change its offers (read by ``dstack_server.py``).

Plain dataclasses, free of pydantic, so the matcher can use them without loading the reader.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackendSettings:
    """One configured backend: its type and the settings that change its offers (None: unset)."""

    type: str
    regions: tuple[str, ...] | None = None
    community_cloud: bool | None = None
    tpu: bool | None = None
    experimental_instance_types: tuple[str, ...] = ()
    bare_metal: bool | None = None


@dataclass(frozen=True)
class DstackServerSettings:
    """The backends of one project, in the order the file lists them (dstack's tie order)."""

    backends: tuple[BackendSettings, ...]
    source: str | None = None
    project: str | None = None

    def key(self) -> str:
        """A text naming these settings exactly (a cache key)."""
        return repr(self.backends)
