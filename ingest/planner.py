"""Planning an ingest: every file found, hashed and identified, before any page is read.

The plan says what to read (and from where: a repaired copy, an Office rendition, the page
images a load file lists), what cannot be read and why, and what is unchanged since the last
run. Containers (ZIP archives, mailboxes, emails) are opened here, so their members are planned
as files of their own; the containers themselves are held back and recorded after their members.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from foiarchive import preservation
from foiarchive.index.catalog import Catalog
from foiarchive.ingest import containers, images, loadfile, pdf
from foiarchive.ingest.discover import Found, discover, display_name
from foiarchive.ingest.errors import DamagedPdf, IngestError
from foiarchive.ingest.identify import (
    CONTAINERS,
    DAT,
    EML,
    EMPTY,
    MSG,
    OPT,
    Identification,
    identify,
)
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.repair import Repair, repair_pdf
from foiarchive.ingest.report import FileIssue
from foiarchive.ingest.textual import split_text
from foiarchive.schemas import Document, Page


@dataclass
class LoadSet:
    dat: Found
    opt: Found
    documents: list[loadfile.Assembled]
    images: dict[str, Path]  # image path as the OPT writes it -> the file


@dataclass(frozen=True)
class Derivative:
    """A copy made to read a file: the original stays in the bag as delivered."""

    path: Path
    event: str  # the PREMIS event that made it: normalization (repair), migration (rendition)
    note: str


def _repair_note(repair: Repair) -> str:
    return (
        f"damaged PDF repaired with {repair.tool} ({repair.pages} pages recovered); "
        "the original is kept as delivered"
    )


@dataclass
class Planned:
    """One file of the production as planned: what it is, how many pages, what to read."""

    found: Found
    sha256: str = ""
    identification: Identification | None = None
    pages: int = 0
    error: str = ""
    crashes: int = 0
    parent: str = ""  # the id of the container document it came out of
    derived: Derivative | None = None  # a copy read in its place (repaired, rendered)
    fields: dict[str, str] = field(default_factory=dict)  # a load file's fields
    assembly: list[tuple[str, Path, tuple[str, str]]] = field(default_factory=list)
    # ^ a load-file document: (Bates key, page image, (its sha256, media type)) per page

    @property
    def source(self) -> Path:
        """The file the workers read."""
        return self.derived.path if self.derived else self.found.source


def _plan_one(found: Found, limits: Limits, derivatives: Path) -> Planned:
    planned = Planned(found)
    if found.problem:
        planned.error = found.problem
        return planned
    try:
        planned.sha256 = preservation.file_digest(found.source)
        ident = identify(found.source)
        planned.identification = ident
        if ident.media_type == "application/pdf":
            try:
                planned.pages = pdf.page_count(found.source, limits)
            except DamagedPdf as damaged:
                fixed = repair_pdf(found.source, derivatives / f"{planned.sha256}.pdf", limits)
                if fixed is None:
                    raise IngestError(
                        f"{damaged}; qpdf and Ghostscript could not repair it"
                    ) from None
                planned.derived = Derivative(fixed.path, "normalization", _repair_note(fixed))
                planned.pages = fixed.pages
        elif ident.media_type.startswith("image/"):
            planned.pages = images.frame_count(found.source, limits)
        elif ident.media_type == EMPTY:
            planned.pages = 0  # nothing to read: recorded with the containers, no worker
        else:
            planned.pages = 1  # text and tables: counted when read
    except IngestError as exc:
        planned.error = str(exc)
    except OSError as exc:
        planned.error = f"cannot read the file: {exc.strerror or exc}"
    return planned


def new_document(production_id: str, planned: Planned) -> Document:
    ident = planned.identification
    assert ident is not None
    return Document(
        id=Document.make_id(production_id, planned.found.path),
        production_id=production_id,
        path=planned.found.path,
        sha256=planned.sha256,
        size=planned.found.size,
        media_type=ident.media_type,
        pronom=ident.pronom,
        page_count=planned.pages,
        parent=planned.parent,
    )


@dataclass
class Held:
    """A container (or a load file's own record) recorded after the files it holds."""

    planned: Planned
    document: Document
    pages: dict[int, Page] = field(default_factory=dict)


@dataclass
class Plan:
    todo: list[Planned] = field(default_factory=list)  # to read, in order
    failed: list[Planned] = field(default_factory=list)  # cannot be read: see .error
    held: list[Held] = field(default_factory=list)  # to record last, innermost last
    sources: dict[str, tuple[Path, str]] = field(default_factory=dict)  # originals for the bag
    image_paths: dict[Path, str] = field(default_factory=dict)  # load-file page image -> path
    files: int = 0
    skipped: int = 0  # unchanged since the last run
    warnings: list[FileIssue] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(p.pages for p in self.todo)


class Planner:
    """Plans one production's files against what the catalog already holds.

    `work_found` is called when the first file to read is planned, so that the readers can get
    ready while the rest is hashed and identified.
    """

    def __init__(
        self,
        catalog: Catalog,
        production_id: str,
        *,
        limits: Limits,
        derivatives: Path,
        scratch: containers.Scratch,
        reread: bool = False,
        work_found: Callable[[], None] = lambda: None,
    ) -> None:
        self.catalog = catalog
        self.production_id = production_id
        self.limits, self.derivatives, self.scratch = limits, derivatives, scratch
        self.reread = reread
        self._work_found_callback: Callable[[], None] | None = work_found
        self.covered: set[Path] = set()  # load files and their page images
        self.page_images: dict[Path, tuple[str, str]] = {}  # image -> (sha256, media type)
        self._plan = Plan()

    def _work_found(self) -> None:
        if self._work_found_callback is not None:
            self._work_found_callback()
            self._work_found_callback = None

    def plan(self, source: Path, exclude: set[Path] | None = None) -> Plan:
        """Hash and identify every file under `source`: what needs reading, what cannot be
        read, what is unchanged since the last run."""
        self._plan = Plan()
        files = list(discover(source, exclude))
        load_sets = self._read_load_files(source, files)
        for found in files:
            if found.note:
                self._plan.warnings.append(FileIssue(found.path, found.note))
                continue
            self._plan_file(found, self._plan.todo, self._plan.failed, parent=None, depth=0)
        for load_set in load_sets:
            self._plan_assembled(load_set, self._plan.todo, self._plan.failed)
        return self._plan

    def _read_load_files(self, root: Path, files: list[Found]) -> list[LoadSet]:
        """Concordance DAT + Opticon OPT pairs: the documents they assemble from page images."""
        by_kind: dict[str, list[Found]] = {DAT: [], OPT: []}
        for found in files:
            if found.problem or found.note or found.source.suffix.lower() not in (".dat", ".opt"):
                continue
            try:
                kind = identify(found.source).media_type
            except (IngestError, OSError):
                continue
            if kind in by_kind:
                by_kind[kind].append(found)
        sets = []
        for dat in by_kind[DAT]:
            same_folder = [o for o in by_kind[OPT] if o.source.parent == dat.source.parent]
            opt = next((o for o in same_folder if o.source.stem == dat.source.stem), None)
            opt = opt or (same_folder[0] if same_folder else None)
            if opt is None:
                self._plan.warnings.append(FileIssue(dat.path, "a DAT load file without an OPT"))
                continue
            try:
                assembled, problems = loadfile.assemble(
                    loadfile.parse_dat(dat.source), loadfile.parse_opt(opt.source)
                )
            except (IngestError, OSError) as exc:
                self._plan.warnings.append(FileIssue(dat.path, str(exc)))
                continue
            for problem in problems:
                self._plan.warnings.append(FileIssue(dat.path, problem))
            images = {}
            for document in assembled:
                for _key, written in document.pages:
                    found_image = loadfile.image_path(root, opt.source, written)
                    if found_image is not None:
                        images[written] = found_image.resolve()
            sets.append(LoadSet(dat, opt, assembled, images))
            self.covered.update(images.values())
            self.covered.update({dat.source.resolve(), opt.source.resolve()})
        return sets

    def _plan_assembled(
        self, load_set: LoadSet, todo: list[Planned], failed: list[Planned]
    ) -> None:
        dat_id = Document.make_id(self.production_id, load_set.dat.path)
        for document in load_set.documents:
            found = Found(load_set.dat.source, f"{load_set.dat.path}!/{document.begin}", 0)
            planned = Planned(found, parent=dat_id, fields=document.fields)
            pages: list[tuple[str, Path, tuple[str, str]]] = []
            for key, written in document.pages:
                image = load_set.images.get(written)
                read = self.page_images.get(image) if image else None
                if image is None or read is None:
                    planned.error = f"page {key}: image {written} is missing or unreadable"
                    break
                pages.append((key, image, read))
            self._plan.files += 1
            if planned.error:
                failed.append(planned)
                continue
            planned.assembly = pages
            planned.pages = len(pages)
            planned.identification = Identification(pages[0][2][1])
            digest = hashlib.sha256("".join(read[0] for _, _, read in pages).encode())
            planned.sha256 = digest.hexdigest()
            if self._unchanged(found, planned):
                self._plan.skipped += 1
                continue
            self._work_found()
            todo.append(planned)

    def _plan_file(
        self,
        found: Found,
        todo: list[Planned],
        failed: list[Planned],
        parent: Document | None,
        depth: int,
    ) -> None:
        self._plan.files += 1
        planned = _plan_one(found, self.limits, self.derivatives)
        planned.parent = parent.id if parent else ""
        if planned.sha256 and parent is None:
            self._plan.sources[found.path] = (
                found.source,
                planned.sha256,
            )  # an original for the bag
        if planned.error:
            failed.append(planned)
            return
        if parent is None and found.source.resolve() in self.covered:
            # A load file or one of its page images: the assembled documents hold the pages.
            assert planned.identification is not None
            self.page_images[found.source.resolve()] = (
                planned.sha256,
                planned.identification.media_type,
            )
            self._plan.image_paths[found.source.resolve()] = found.path
            if self.catalog.ingested_sha256(self.production_id, found.path) != planned.sha256:
                document = new_document(self.production_id, planned)
                document.page_count = 0
                self._plan.held.append(Held(planned, document))
            return
        if self._unchanged(found, planned):
            self._plan.skipped += 1
            return
        ident = planned.identification
        assert ident is not None
        if ident.warning:
            self._plan.warnings.append(FileIssue(found.path, ident.warning))
        if planned.derived:
            self._plan.warnings.append(FileIssue(found.path, planned.derived.note))
        if ident.media_type in CONTAINERS:
            self._open_container(planned, todo, failed, depth)
            return
        if ident.media_type == EMPTY:
            self._plan.held.append(Held(planned, new_document(self.production_id, planned)))
            return
        self._work_found()
        todo.append(planned)

    def _unchanged(self, found: Found, planned: Planned) -> bool:
        """Already in the catalog as it is now, and not asked to read it again."""
        if self.reread:
            return False
        return self.catalog.ingested_sha256(self.production_id, found.path) == planned.sha256

    def _open_container(
        self, planned: Planned, todo: list[Planned], failed: list[Planned], depth: int
    ) -> None:
        """A ZIP, a mailbox or an email: its members are planned as files of their own.

        The container's own record is written after all its members (see finish_containers),
        so an interrupted run opens it again next time.
        """
        limits = self.limits
        ident = planned.identification
        assert ident is not None
        if depth >= limits.max_nesting:
            planned.error = f"containers nested more than {limits.max_nesting} deep"
            failed.append(planned)
            return
        document = new_document(self.production_id, planned)
        source = planned.found.source
        try:
            if ident.media_type in (EML, MSG):
                mail = containers.read_email(source, ident.media_type, self.scratch, limits)
                document.email = {k: v for k, v in mail.headers.items() if v}
                document.title = mail.headers.get("subject", "")
                pages = split_text(mail.text())
                inside = mail.attachments
            else:
                pages = []
                inside = containers.members(source, ident.media_type, self.scratch, limits)
        except IngestError as exc:
            planned.error = str(exc)
            failed.append(planned)
            return
        document.page_count = len(pages)
        self._plan.held.append(Held(planned, document, {p.number: p for p in pages}))
        for member in inside:
            found = Found(
                member.source or source,
                f"{planned.found.path}!/{display_name(member.name)}",
                member.size,
                member.problem,
            )
            self._plan_file(found, todo, failed, parent=document, depth=depth + 1)
