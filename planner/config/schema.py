"""The JSON Schema (draft 2020-12) of the service configuration, generated from the models.

It describes the input as written (shorthand strings included), so editors can complete and check
configuration files. Rules a schema cannot state (range order, GPU token meaning, ...) are left to
``planner validate``.
"""

from __future__ import annotations

from typing import Any

from planner.config.models import ServiceConfiguration

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://github.com/planner/planner/schemas/service.json"


def json_schema() -> dict[str, Any]:
    """A fresh JSON Schema dict of ``ServiceConfiguration`` (validation mode, with descriptions)."""
    generated = ServiceConfiguration.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, **generated}
