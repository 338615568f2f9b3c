"""Validation of production manifests against `production.schema.json`."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from foiarchive.schemas.errors import FoiarchiveError
from foiarchive.schemas.records import Production


class ManifestError(FoiarchiveError, ValueError):
    """A production manifest that cannot be used, with a message naming the file and field."""


@cache
def _production_schema() -> dict[str, Any]:
    text = (
        resources.files("foiarchive.schemas").joinpath("production.schema.json").read_text("utf-8")
    )
    return json.loads(text)


def validate_production(data: dict[str, Any], *, source: str = "manifest") -> Production:
    """Check a manifest dict against the schema; return the Production it describes."""
    import jsonschema  # costs 60 ms at import; only manifests need it

    validator = jsonschema.Draft202012Validator(
        _production_schema(), format_checker=jsonschema.FormatChecker()
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ManifestError(f"{source}: {where}: {first.message}{more}")
    return Production.from_dict(data)


def load_manifest(path: Path) -> Production:
    """Read and validate a production manifest file (JSON)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: a manifest is a JSON object")
    return validate_production(data, source=str(path))
