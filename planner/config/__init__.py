"""Service configurations: load, validate and normalize a dstack ``type: service`` file.

``load_config`` is the entry point; ``LoadedConfig.normalized`` is what later stages read.
"""

from __future__ import annotations

from planner.config.load import LoadedConfig, load_config
from planner.config.models import ServiceConfiguration

__all__ = ["LoadedConfig", "ServiceConfiguration", "load_config"]
