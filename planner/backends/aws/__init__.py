"""The AWS backend plugin, on boto3 (extra ``[aws]``): live EC2 offers and provisioning.

boto3 is imported only inside this package, and only when a backend of type ``aws`` is used, so
``planner offers``, ``plan`` and ``report`` never load it. Its settings accept ``endpoint_url``, so
the same plugin talks to an EC2 emulator (moto in server mode; README, docs/backends.md).

- ``settings``: the plugin's settings (a pydantic model) from a backends-file entry;
- ``session``: boto3 clients for those settings, and botocore errors → ``BackendError`` /
  ``NoCapacity`` with credentials scrubbed;
- ``offers`` / ``pricing`` / ``spot``: instance types with their GPUs, on-demand and spot prices
  → offer rows;
- ``provision``: run, describe, wait, terminate, list instances by tags;
- ``backend``: ``AwsBackend``, the ``planner.backends.base.Backend`` the entry point loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.backends.aws.backend import AwsBackend

__all__ = ["AwsBackend"]


def __getattr__(name: str) -> Any:
    if name == "AwsBackend":
        from planner.backends.aws.backend import AwsBackend

        return AwsBackend
    raise AttributeError(f"module 'planner.backends.aws' has no attribute {name!r}")
