"""After an ingest or import: run the archive's watches, say what each found in the report, and
hand the news to whoever asked to hear it (a command on stdin, a webhook)."""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.error
import urllib.request
from typing import Any

from foiarchive.archive import Archive
from foiarchive.index.backend import BackendError
from foiarchive.index.catalog import Catalog
from foiarchive.index.query import QueryError
from foiarchive.index.settings import watch_webhook
from foiarchive.index.watches import run_watches
from foiarchive.index.workspace import WorkspaceError
from foiarchive.ingest.report import IngestReport

#: How long the notify command and the webhook may take: a chat bot's call, not a job.
NOTIFY_TIMEOUT = 30


def after_ingest(
    archive: Archive, catalog: Catalog, report: IngestReport, notify_command: str = ""
) -> None:
    """Run every watch (an archive without a workspace has none); problems become the report's
    watch_warning, never a failed ingest: the records are in, and `watch run` catches up."""
    if not archive.layout.workspace_file.exists():
        return
    try:
        with archive.workspace() as workspace:
            if not workspace.watches():
                return
            with archive.backend() as backend:
                runs = run_watches(workspace, catalog, backend)
    except (WorkspaceError, BackendError, QueryError) as exc:
        report.watch_warning = f"watches not run: {exc}; run 'foiarchive watch run'"
        return
    report.watches = [line for run in runs for line in run.summary()]
    news = [run.to_dict() for run in runs if run.new]
    if not news:
        return
    payload = {"event": "ingest", "production": report.production, "watches": news}
    problems = []
    if notify_command:
        problems.append(_run_command(notify_command, payload))
    try:
        webhook = watch_webhook(archive.layout.config_file)
    except BackendError as exc:
        problems.append(str(exc))
        webhook = ""
    if webhook:
        problems.append(_post(webhook, payload))
    report.watch_warning = "; ".join(p for p in problems if p)


def _run_command(command: str, payload: dict[str, Any]) -> str:
    """The command line the operator gave, split as a shell would but run without one; the JSON
    on its stdin. Returns what went wrong, or ""."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"--notify-command: {exc}"
    if not argv:
        return ""
    try:
        done = subprocess.run(
            argv,
            input=json.dumps(payload).encode(),
            capture_output=True,
            timeout=NOTIFY_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"notify command {argv[0]!r} did not finish in {NOTIFY_TIMEOUT} s"
    except OSError as exc:
        return f"notify command {argv[0]!r} could not run: {exc.strerror}"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        return f"notify command {argv[0]!r} failed ({done.returncode}) {' '.join(detail)}".strip()
    return ""


def _post(url: str, payload: dict[str, Any]) -> str:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT) as response:
            response.read(1024)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"webhook {url.split('?')[0]}: {getattr(exc, 'reason', exc)}"
    return ""
