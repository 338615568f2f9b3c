"""The Elasticsearch index definition, kept as JSON beside the other schemas."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def elasticsearch_mapping() -> dict[str, Any]:
    """Settings and mappings for a new page index (a fresh copy each call)."""
    text = (
        resources.files("foiarchive.schemas")
        .joinpath("elasticsearch-mapping.json")
        .read_text("utf-8")
    )
    definition = json.loads(text)
    definition.pop("_comment", None)
    return definition
