"""The JSON API fuzzed from its own OpenAPI description (schemathesis): whatever a client
sends, no answer is a server error, and every answer matches what the description promises."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from foiarchive import Archive
from foiarchive.index.team import Team
from foiarchive.web import AccessPolicy, Served, create_app

from .conftest import CREDENTIAL

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def operations(web_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    app = create_app(
        Served(Archive(web_archive), image_cache=tmp_path_factory.mktemp("fuzz-images")),
        AccessPolicy(CREDENTIAL),
    )
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    return found


API_ROUTES = (
    "GET /api/search",
    "GET /api/export",
    "GET /api/productions",
    "GET /api/productions/{production_id}",
    "GET /api/productions/{production_id}/documents",
    "GET /api/productions/{production_id}/report",
    "GET /api/diff",
    "GET /api/documents/{document_id}",
    "GET /api/documents/{document_id}/pages/{number}",
    "GET /api/documents/{document_id}/pages/{number}/image",
    "GET /api/documents/{document_id}/original",
    "GET /api/me",
    "GET /api/documents/{document_id}/marks",
    "POST /api/documents/{document_id}/notes",
    "DELETE /api/notes/{note_id}",
    "POST /api/documents/{document_id}/tags",
    "PUT /api/documents/{document_id}/star",
)
#: The team workspace's routes, fuzzed again on an archive with accounts, signed in and not.
TEAM_ROUTES = API_ROUTES[-6:]


def test_every_api_route_is_described(operations: dict) -> None:
    assert set(operations) == set(API_ROUTES)


@pytest.mark.parametrize("label", API_ROUTES)
def test_api_answers_every_request_as_described(operations: dict, label: str) -> None:
    @given(case=operations[label].as_strategy())
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    fuzz()


@pytest.fixture(scope="module")
def team_operations(team_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    archive = tmp_path_factory.mktemp("fuzz-team") / "archive"
    shutil.copytree(team_archive, archive)
    with Archive(archive).workspace() as workspace:
        token = Team(workspace).new_token("alice")
    app = create_app(
        Served(Archive(archive), image_cache=tmp_path_factory.mktemp("fuzz-team-images")),
        AccessPolicy(public=True),
    )
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    return found, token


@pytest.mark.parametrize("signed_in", [True, False], ids=["token", "anonymous"])
@pytest.mark.parametrize("label", TEAM_ROUTES)
def test_team_routes_answer_every_request_as_described(
    team_operations: tuple, label: str, signed_in: bool
) -> None:
    operations, token = team_operations
    headers = {"Authorization": f"Bearer {token}"} if signed_in else {}

    @given(case=operations[label].as_strategy())
    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS, headers=headers)

    fuzz()


def test_real_documents_with_any_query_and_page(web_archive: Path, tmp_path: Path) -> None:
    """The fuzzer rarely guesses a document id; here every id is real and the rest random."""
    client = TestClient(create_app(Served(Archive(web_archive), image_cache=tmp_path)))
    with Archive(web_archive).catalog() as catalog:
        ids = [d.id for d in catalog.documents("ice-2017-r1")]

    @given(
        document=st.sampled_from(ids),
        number=st.integers(min_value=-2, max_value=5),
        query=st.text(max_size=40),
        html=st.booleans(),
    )
    @settings(max_examples=150, deadline=None, database=None)
    def fuzz(document: str, number: int, query: str, html: bool) -> None:
        if html:
            response = client.get(f"/documents/{document}", params={"page": number, "q": query})
        else:
            response = client.get(f"/api/documents/{document}/pages/{number}", params={"q": query})
        assert response.status_code in (200, 400, 404), response.text[:300]

    fuzz()
