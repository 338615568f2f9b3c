"""Checking a bag against a BagIt Profile (bagit-profiles spec 1.3.0), ours by default."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from foiarchive.preservation.validate import BagReport, Problem


@cache
def foiarchive_profile() -> dict[str, Any]:
    return json.loads(
        resources.files("foiarchive.schemas").joinpath("bagit-profile.json").read_text("utf-8")
    )


def profile_identifier() -> str:
    """The profile's identifier, a URN (a UUID): true wherever the profile is copied, unlike a
    web address the project does not own; bags that follow it name it in bag-info.txt."""
    return str(foiarchive_profile()["BagIt-Profile-Info"]["BagIt-Profile-Identifier"])


def check_profile(report: BagReport, profile: dict[str, Any] | None = None) -> list[Problem]:
    """What a validated bag lacks to conform to the profile ([] when it conforms)."""
    profile = profile or foiarchive_profile()
    bag: Path = report.bag
    problems: list[Problem] = []

    def lack(path: str, message: str) -> None:
        problems.append(Problem(path, f"profile: {message}"))

    versions = profile.get("Accept-BagIt-Version")
    if versions and report.version not in versions:
        lack("bagit.txt", f"BagIt-Version {report.version} not in {versions}")
    for label, rule in profile.get("Bag-Info", {}).items():
        values = report.info_values(label)
        if rule.get("required") and not values:
            lack("bag-info.txt", f"{label} is required")
        if not rule.get("repeatable", True) and len(values) > 1:
            lack("bag-info.txt", f"{label} must not repeat")
        allowed = rule.get("values")
        if allowed and any(v not in allowed for v in values):
            lack("bag-info.txt", f"{label} must be one of {allowed}")
    for algorithm in profile.get("Manifests-Required", []):
        if not (bag / f"manifest-{algorithm}.txt").is_file():
            lack(f"manifest-{algorithm}.txt", "required manifest is missing")
    for algorithm in profile.get("Tag-Manifests-Required", []):
        if not (bag / f"tagmanifest-{algorithm}.txt").is_file():
            lack(f"tagmanifest-{algorithm}.txt", "required tag manifest is missing")
    for name in profile.get("Tag-Files-Required", []):
        if not (bag / name).is_file():
            lack(name, "required tag file is missing")
    if not profile.get("Allow-Fetch.txt", True) and (bag / "fetch.txt").exists():
        lack("fetch.txt", "fetch.txt is not allowed")
    return problems
