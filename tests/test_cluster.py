"""Ingest on a Dask cluster: a real `dask scheduler` and real `foiarchive worker` processes on
127.0.0.1, each worker in its own temporary folder (no shared filesystem is assumed), Tesseract
for real. Every process a test starts is killed when it ends, pass or fail."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from foiarchive import Archive, index
from foiarchive.archive import SettingsError
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.ingest.sample import Redaction, dense_page_lines, render_scan, save_scanned_pdf
from foiarchive.schemas import Production
from tests.conftest import run_cli, use_elasticsearch

distributed = pytest.importorskip("distributed")

FOIARCHIVE = Path(sys.executable).with_name("foiarchive")
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A scheduler and workers started for one test (or module); `stop` kills them all."""

    root: Path
    port: int = field(default_factory=_free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: dict[int, Path] = field(default_factory=dict)  # by pid

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        folder = self.root / name
        folder.mkdir(parents=True)
        with (folder / "log").open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=folder,
                env={**os.environ, "TMPDIR": str(folder)},
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,  # its own group: the nanny's worker dies with it
            )
        self.processes.append(process)
        self.logs[process.pid] = folder / "log"
        return process

    def start_scheduler(self) -> None:
        self.scheduler = self._start(
            f"scheduler-{len(self.processes)}",
            [
                sys.executable, "-m", "distributed.cli.dask_scheduler",
                "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard",
            ],
        )  # fmt: skip

    def start_workers(self, count: int) -> None:
        for _ in range(count):
            name = f"worker-{len(self.processes)}"
            command = [str(FOIARCHIVE), "worker", self.address, "--nworkers", "1"]
            self.workers.append(self._start(name, command))
        self.wait_for_workers(len([w for w in self.workers if w.poll() is None]))

    def kill_workers(self) -> None:
        for worker in self.workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    def client(self) -> Any:
        return distributed.Client(self.address, timeout=START_TIMEOUT, set_as_default=False)

    def wait_for_workers(self, count: int) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=START_TIMEOUT)

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return self.logs[process.pid].read_text("utf-8", "replace")

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group: a nanny's worker too
            process.wait(timeout=30)


@pytest.fixture
def new_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[int], Cluster]]:
    """Start a scheduler and `n` one-thread workers; all are killed after the test."""
    started: list[Cluster] = []

    def start(workers: int) -> Cluster:
        cluster = Cluster(tmp_path_factory.mktemp("cluster"))
        started.append(cluster)
        cluster.start_scheduler()
        cluster.start_workers(workers)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        running.start_scheduler()
        running.start_workers(2)
        yield running
    finally:
        running.stop()


def _scanned_production(folder: Path, files: int, pages: int = 2, lines: int = 12) -> None:
    """Scanned PDFs with Bates stamps, a redaction box with its code, a PNG scan and a note."""
    rng = random.Random(5)
    folder.mkdir(parents=True)
    for f in range(files):
        images = [
            render_scan(
                dense_page_lines(rng, lines=lines, width=60),
                bates=f"CLU-{f * pages + n + 1:05d}",
                redactions=[Redaction(line=2, start=0.2, end=0.5, code="(b)(6)")] if n == 0 else [],
                seed=f * pages + n,
            )
            for n in range(pages)
        ]
        save_scanned_pdf(folder / f"scan-{f}.pdf", images)
    render_scan(dense_page_lines(rng, lines=8, width=50), seed=99).save(folder / "photo.png")
    (folder / "note.txt").write_text("A note about detainers, written plainly.\n", "utf-8")


def _catalog(archive: Path, production: str) -> dict[str, tuple[dict, list[dict]]]:
    """Every document (timestamps left out) with its pages, by path."""
    with Archive(archive).catalog(read_only=True) as catalog:
        found = {}
        for document in catalog.documents(production):
            record = dataclasses.asdict(document)
            record.pop("ingested_at")
            pages = [dataclasses.asdict(page) for page in catalog.pages(document.id)]
            found[document.path] = (record, pages)
        return found


def _hits(archive: Path, query: str, backend: str = "auto") -> list[tuple[str, int, str]]:
    repository = Archive(archive)
    with repository.catalog(read_only=True) as catalog, repository.backend(backend) as searcher:
        results = index.search(catalog, searcher, index.SearchRequest(query, limit=100))
        return sorted((hit.path, hit.page, hit.bates) for hit in results.hits)


def _ocr_cache(archive: Path) -> dict[str, str]:
    folder = archive / "cache" / "ocr"
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*.json")}


def _stored_sources(cluster: Cluster) -> set[str]:
    return {p.name for p in cluster.root.glob("worker-*/**/foiarchive-sources/*")}


def test_a_cluster_ingest_equals_a_local_one_and_sources_travel_by_content(
    cluster: Cluster, tmp_path: Path, es_url: str
) -> None:
    source = tmp_path / "release"
    _scanned_production(source, files=3)
    local = tmp_path / "local"
    ingest_production(Archive(local), source, Production(id="clu"), IngestOptions(jobs=2))
    remote = tmp_path / "remote"
    remote.mkdir()
    use_elasticsearch(remote, es_url)  # the coordinator indexes into Elasticsearch as well

    result = run_cli(
        "ingest", source, "--id", "clu", "--cluster", cluster.address, "--format", "json",
        archive=remote,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ingested"], report["pages"], report["failed"]) == (5, 8, 0)
    assert _catalog(remote, "clu") == _catalog(local, "clu")
    pages = [p for _, pages in _catalog(remote, "clu").values() for p in pages]
    assert sum(1 for p in pages if p["redactions"] and p["exemptions"]) == 3
    assert sorted(b for p in pages for b in p["bates"]) == [f"CLU-{n:05d}" for n in range(1, 7)]
    for query in ("detainers", "exemption:b6", "bates:CLU-00004", "appeal OR determination"):
        expected = _hits(local, query, "tantivy")
        assert expected, query
        assert _hits(remote, query, "tantivy") == expected
        assert _hits(remote, query, "elasticsearch") == expected
    assert _ocr_cache(remote) == _ocr_cache(local)  # as the workers made it ready (ReadPage)
    bag = "bags/clu/manifest-sha256.txt"
    assert (remote / bag).read_text() == (local / bag).read_text()
    # Each source went once, by content (not once per page, not as a path): the workers hold
    # the files under their sha256, in their own folders.
    digests = {line.split()[0] for line in (local / bag).read_text().splitlines()}
    assert report["cluster"]["files_sent"] == 5
    assert report["cluster"]["bytes_sent"] == sum(p.stat().st_size for p in source.iterdir())
    # Several pages of a file a task: 3 text layers, 3 OCR tasks of 2 pages, the photo, the note
    # (a page a task made 11: each task and its result cost the coordinator Dask messages).
    assert report["cluster"]["tasks"] == 8
    assert {name.split(".")[0] for name in _stored_sources(cluster)} <= digests
    assert len({name.split(".")[0] for name in _stored_sources(cluster)}) >= 4


def test_files_under_a_shared_path_go_as_paths(cluster: Cluster, tmp_path: Path) -> None:
    source = tmp_path / "mounted" / "release"
    _scanned_production(source, files=1, pages=1, lines=4)
    before = _stored_sources(cluster)
    report = ingest_production(
        Archive(tmp_path / "archive"),
        source,
        Production(id="shared"),
        IngestOptions(cluster=Archive(tmp_path).cluster(cluster.address, (tmp_path / "mounted",))),
    )
    assert (report.ingested, report.pages, report.failures) == (3, 3, [])
    assert report.cluster["files_sent"] == 0
    assert report.cluster["bytes_sent"] == 0
    assert _stored_sources(cluster) == before


def _ingest_command(archive: Path, source: Path, address: str) -> list[str]:
    return [
        str(FOIARCHIVE), "--archive", str(archive), "ingest", str(source), "--id", "big",
        "--cluster", address, "--format", "json", "--quiet",
    ]  # fmt: skip


def _wait_for_ocr(archive: Path, pages: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while len(list((archive / "cache" / "ocr").rglob("*.json"))) < pages:
        assert process.poll() is None, "the ingest ended before the fault was injected"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _every_page_once(archive: Path, files: int, pages: int) -> None:
    catalog = _catalog(archive, "big")
    scans = {path: pages for path, (_, pages) in catalog.items() if path.startswith("scan-")}
    assert len(scans) == files
    bates = sorted(b for found in scans.values() for page in found for b in page["bates"])
    assert bates == [f"CLU-{n:05d}" for n in range(1, files * pages + 1)]
    for found in scans.values():
        assert [page["number"] for page in found] == list(range(1, pages + 1))
        assert all(page["text_source"] == "ocr" and page["text"] for page in found)


def test_a_worker_killed_mid_production_loses_nothing(
    new_cluster: Callable[[int], Cluster], tmp_path: Path
) -> None:
    cluster = new_cluster(2)
    source = tmp_path / "release"
    _scanned_production(source, files=4)
    archive = tmp_path / "archive"
    ingest = subprocess.Popen(
        _ingest_command(archive, source, cluster.address), stdout=subprocess.PIPE
    )
    try:
        _wait_for_ocr(archive, 2, ingest)
        with cluster.client() as client:
            busy = [w for w, tasks in client.processing().items() if tasks]
            os.kill(client.run(os.getpid)[busy[0]], signal.SIGKILL)  # mid-page
        out, _ = ingest.communicate(timeout=120)
    finally:
        ingest.kill()
    assert ingest.returncode == 0
    report = json.loads(out)
    assert (report["failed"], report["pages"]) == (0, 10)
    _every_page_once(archive, files=4, pages=2)


def test_the_scheduler_lost_stops_the_ingest_in_one_line_and_the_same_command_resumes(
    new_cluster: Callable[[int], Cluster], tmp_path: Path
) -> None:
    cluster = new_cluster(2)
    source = tmp_path / "release"
    _scanned_production(source, files=4)
    archive = tmp_path / "archive"
    command = _ingest_command(archive, source, cluster.address)
    ingest = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_ocr(archive, 2, ingest)
        assert cluster.scheduler is not None
        os.killpg(cluster.scheduler.pid, signal.SIGKILL)
        _, err = ingest.communicate(timeout=60)
    finally:
        ingest.kill()
    assert ingest.returncode == 1
    message = err.decode().strip()
    assert message.startswith("error: lost the Dask scheduler at"), message
    assert "\n" not in message and "Traceback" not in message
    for _, (document, pages) in _catalog(archive, "big").items():  # whole documents only
        assert document["status"] == "ok" and len(pages) == document["page_count"]

    cached = len(list((archive / "cache" / "ocr").rglob("*.json")))
    assert cached >= 2
    cluster.kill_workers()
    cluster.start_scheduler()  # the same address again, and fresh workers
    cluster.start_workers(1)
    again = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    # Nothing OCR'd before the loss is read again: 9 pages need OCR (8 scanned, 1 photo).
    resumed = json.loads(again.stdout)
    assert resumed["pages_ocr"] - resumed["pages_ocr_cached"] == 9 - cached
    _every_page_once(archive, files=4, pages=2)


def test_a_worker_of_another_version_is_refused(
    new_cluster: Callable[[int], Cluster],
) -> None:
    from foiarchive.ingest import cluster_worker

    cluster = new_cluster(1)
    expected = {**cluster_worker.identity(), "foiarchive": "0.0.1"}
    with cluster.client() as client, pytest.raises(cluster_worker.WorkerRefused) as refused:
        client.register_plugin(cluster_worker.Readiness(expected))
    assert "runs foiarchive" in str(refused.value)
    assert "the coordinator 0.0.1" in str(refused.value)
    worker = cluster.workers[0]
    worker.wait(timeout=30)  # it closes itself, nanny and all
    assert "refused: this worker runs foiarchive" in cluster.log(worker)


def test_cluster_settings_come_from_the_option_the_environment_or_config_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = Archive(tmp_path)
    monkeypatch.delenv("FOIARCHIVE_CLUSTER", raising=False)
    assert archive.cluster() is None
    (tmp_path / "config.toml").write_text(
        '[cluster]\nscheduler = "tcp://config:8786"\nshared_paths = ["/mnt/foia"]\ntimeout = 5\n'
    )
    settings = archive.cluster()
    assert settings is not None
    assert (settings.scheduler, settings.shared_paths, settings.timeout) == (
        "tcp://config:8786", (Path("/mnt/foia"),), 5.0,
    )  # fmt: skip
    assert settings.shared(Path("/mnt/foia/release-1/a.pdf"))
    assert not settings.shared(Path("/mnt/other/a.pdf"))
    monkeypatch.setenv("FOIARCHIVE_CLUSTER", "tcp://environment:8786")
    assert archive.cluster().scheduler == "tcp://environment:8786"  # type: ignore[union-attr]
    assert archive.cluster("tcp://option:1").scheduler == "tcp://option:1"  # type: ignore[union-attr]
    with pytest.raises(SettingsError, match="give protocol, host and port"):
        archive.cluster("scheduler-without-protocol")
    (tmp_path / "config.toml").write_text('[cluster]\nschedular = "tcp://typo:8786"\n')
    with pytest.raises(SettingsError, match=r"unknown setting cluster\.schedular"):
        archive.cluster()


def test_an_unreachable_scheduler_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOIARCHIVE_CLUSTER", raising=False)
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "config.toml").write_text("[cluster]\ntimeout = 1\n")
    source = tmp_path / "release"
    source.mkdir()
    (source / "note.txt").write_text("text")
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = run_cli("ingest", source, "--id", "x", "--cluster", address, archive=archive)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"error: cannot reach the Dask scheduler at {address}")
    assert "\n" not in result.stderr.strip()
    assert not (archive / "catalog.sqlite").exists()  # nothing was started


def test_a_worker_without_its_scheduler_is_one_line() -> None:
    """`dask worker` ends in a traceback ("Nanny failed to start") when no scheduler answers;
    `foiarchive worker` checks first and says so in one line."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = run_cli("worker", address, "--connect-timeout", "1")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"error: cannot reach the Dask scheduler at {address}")
    assert "\n" not in result.stderr.strip()


def test_ctrl_c_cancels_the_cluster_tasks(cluster: Cluster, tmp_path: Path) -> None:
    source = tmp_path / "release"
    _scanned_production(source, files=4)
    archive = tmp_path / "archive"
    ingest = subprocess.Popen(
        _ingest_command(archive, source, cluster.address), stderr=subprocess.PIPE
    )
    try:
        _wait_for_ocr(archive, 1, ingest)
        ingest.send_signal(signal.SIGINT)
        _, err = ingest.communicate(timeout=60)
    finally:
        ingest.kill()
    assert ingest.returncode == 130, err
    assert "run the same command again" in err.decode()

    def tasks_left(dask_scheduler: Any) -> int:
        return len(dask_scheduler.tasks)

    with cluster.client() as client:
        deadline = time.monotonic() + 10
        while client.run_on_scheduler(tasks_left) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.run_on_scheduler(tasks_left) == 0  # nothing queued or running for it
