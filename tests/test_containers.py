"""Productions delivered as ZIP archives (nested, hostile) and as email (.eml, .mbox)."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from foiarchive import Archive, index
from foiarchive.ingest import IngestOptions, ingest_production
from foiarchive.ingest.identify import EML, MBOX, ZIP, identify
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.sample import write_text_pdf
from foiarchive.schemas import Production
from foiarchive.web import Served, create_app

from .conftest import run_cli, run_json

# The fixture writes two members named same.txt on purpose; zipfile warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")


def _documents(archive: Path) -> dict[str, index.catalog.Document]:
    with Archive(archive).catalog() as catalog:
        return {d.path: d for d in catalog.documents()}


@pytest.fixture(scope="module")
def zipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("zipped")
    inner = source / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("deep/cases.csv", "case,status\nZ-1,deep nested detainer\nZ-2,closed\n")
        archive.writestr("note.txt", "A note about the quokka program.\n")
    with zipfile.ZipFile(source / "production.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("memo.txt", "Memorandum on the pangolin detention review.\n")
        archive.write(inner, "inner.zip")
        archive.writestr("../escape.txt", "climbing out")
        archive.writestr("/etc/absolute.txt", "rooted")
        link = zipfile.ZipInfo("link-to-passwd")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("locked.txt", "flagged as encrypted below")
        # bzip2: past deflate's ceiling (~1,032:1), where the one ratio bound lies
        archive.writestr("bomb.txt", b"\0" * (40 * 1024 * 1024), zipfile.ZIP_BZIP2)
        archive.writestr("same.txt", "first")
        archive.writestr("same.txt", "second")
    inner.unlink()
    _flag_encrypted(source / "production.zip", b"locked.txt")
    return source


def _flag_encrypted(path: Path, name: bytes) -> None:
    """Set the 'encrypted' bit of one member in its local and central headers."""
    data = bytearray(path.read_bytes())
    for signature, flag_at, length_at, name_at in (
        (b"PK\x03\x04", 6, 26, 30),
        (b"PK\x01\x02", 8, 28, 46),
    ):
        start = data.find(signature)
        while start != -1:
            length = int.from_bytes(data[start + length_at : start + length_at + 2], "little")
            if data[start + name_at : start + name_at + length] == name:
                data[start + flag_at] |= 0x01
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def zipped_archive(zipped: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("zipped-archive")
    report = ingest_production(
        Archive(archive), zipped, Production(id="z1", agency="ICE"), IngestOptions(jobs=2)
    )
    assert {f.path for f in report.failures} == {
        "production.zip!/../escape.txt",
        "production.zip!//etc/absolute.txt",
        "production.zip!/link-to-passwd",
        "production.zip!/locked.txt",
        "production.zip!/bomb.txt",
    }
    return archive


def test_members_become_documents_with_their_provenance(zipped_archive: Path) -> None:
    documents = _documents(zipped_archive)
    outer, inner = documents["production.zip"], documents["production.zip!/inner.zip"]
    assert (outer.media_type, outer.page_count, outer.parent) == (ZIP, 0, "")
    assert inner.parent == outer.id
    nested = documents["production.zip!/inner.zip!/deep/cases.csv"]
    assert nested.parent == inner.id and nested.columns == ["case", "status"]
    assert documents["production.zip!/memo.txt"].parent == outer.id
    assert {"production.zip!/same.txt", "production.zip!/same (2).txt"} <= set(documents)
    hits = run_json("search", "quokka OR pangolin OR detainer", archive=zipped_archive)["hits"]
    assert {h["path"] for h in hits} == {
        "production.zip!/memo.txt",
        "production.zip!/inner.zip!/note.txt",
        "production.zip!/inner.zip!/deep/cases.csv",
    }


def test_hostile_members_are_reported_not_extracted(zipped_archive: Path, zipped: Path) -> None:
    documents = _documents(zipped_archive)
    reasons = {
        path.split("!/", 1)[1]: d.error for path, d in documents.items() if d.status == "error"
    }
    assert "unsafe member name" in reasons["../escape.txt"]
    assert "unsafe member name" in reasons["/etc/absolute.txt"]
    assert "symbolic link" in reasons["link-to-passwd"]
    assert "encrypted" in reasons["locked.txt"]
    assert "zip bomb" in reasons["bomb.txt"]
    for root in (zipped_archive, zipped):
        assert not list(root.rglob("escape.txt")) and not list(root.rglob("absolute.txt"))
    assert not Path("/etc/absolute.txt").exists()
    assert not (zipped_archive / "staging").exists() or not any(
        (zipped_archive / "staging").rglob("*.txt")
    )  # the scratch folder is gone


def test_the_bag_keeps_the_zip_not_its_members(zipped_archive: Path) -> None:
    payload = zipped_archive / "bags" / "z1" / "data"
    assert sorted(p.name for p in payload.rglob("*") if p.is_file()) == ["production.zip"]
    assert run_cli("verify", "z1", archive=zipped_archive).exit_code == 0


def test_an_unchanged_zip_is_not_opened_again(zipped: Path, zipped_archive: Path) -> None:
    report = ingest_production(
        Archive(zipped_archive), zipped, Production(id="z1", agency="ICE"), IngestOptions(jobs=2)
    )
    assert report.ingested == 0 and report.skipped == 1 and not report.failures


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (Limits(max_unpacked_bytes=1024), "unpacks to"),
        (Limits(max_members=3), "over the limit of 3"),
    ],
)
def test_archive_wide_bounds(zipped: Path, tmp_path: Path, limits: Limits, reason: str) -> None:
    report = ingest_production(
        Archive(tmp_path / "a"), zipped, Production(id="z2"), IngestOptions(jobs=1, limits=limits)
    )
    (failure,) = report.failures
    assert failure.path == "production.zip" and reason in failure.reason


def test_nesting_is_bounded(zipped: Path, tmp_path: Path) -> None:
    report = ingest_production(
        Archive(tmp_path / "a"),
        zipped,
        Production(id="z3"),
        IngestOptions(jobs=1, limits=Limits(max_nesting=1)),
    )
    nested = [f for f in report.failures if f.path == "production.zip!/inner.zip"]
    assert nested and "nested more than 1 deep" in nested[0].reason


# -- email ----------------------------------------------------------------------------------
def _message(number: int, attachments: list[tuple[str, bytes, str]], html: bool = False):  # type: ignore[no-untyped-def]
    message = EmailMessage()
    message["From"] = f"Jane Smith <jsmith{number}@ice.dhs.gov>"
    message["To"] = "Field Office <ero@ice.dhs.gov>"
    message["Cc"] = "records@cbp.dhs.gov"
    message["Date"] = f"Mon, 0{number} Mar 2017 10:15:00 -0500"
    message["Subject"] = f"Detainer request {number}"
    message["Message-ID"] = f"<{number}@ice.dhs.gov>"
    body = f"Please lodge the narwhal detainer number {number} by Friday."
    if html:
        message.set_content(body)
        message.add_alternative(
            f"<html><body><p>{body}</p><script>x()</script></body></html>", subtype="html"
        )
    else:
        message.set_content(body)
    for name, data, kind in attachments:
        if kind == "message/rfc822":
            message.add_attachment(data, filename=name)  # an EmailMessage: message/rfc822
        else:
            maintype, subtype = kind.split("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


@pytest.fixture(scope="module")
def mail_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("mail")
    pdf = source / "report.pdf"
    write_text_pdf(pdf, [["Quarterly removals report", "The ocelot initiative."]])
    forwarded = _message(2, [("inner.txt", b"The axolotl memo.", "text/plain")])
    outer = _message(
        1,
        [
            ("report.pdf", pdf.read_bytes(), "application/pdf"),
            ("forward.eml", forwarded, "message/rfc822"),
        ],
        html=True,
    )
    pdf.unlink()
    (source / "request.eml").write_bytes(outer.as_bytes())
    with (source / "box.mbox").open("wb") as box:
        for number in (3, 4):
            box.write(b"From jsmith@ice.dhs.gov Mon Mar  6 10:15:00 2017\n")
            box.write(_message(number, []).as_bytes().replace(b"\nFrom ", b"\n>From ") + b"\n")
    assert identify(source / "request.eml").media_type == EML
    assert identify(source / "box.mbox").media_type == MBOX
    archive = tmp_path_factory.mktemp("mail-archive")
    report = ingest_production(Archive(archive), source, Production(id="m1"), IngestOptions(jobs=2))
    assert report.ok, report.failures
    return archive


def test_email_headers_body_and_attachments(mail_archive: Path) -> None:
    documents = _documents(mail_archive)
    email = documents["request.eml"]
    assert email.email["from"] == "Jane Smith <jsmith1@ice.dhs.gov>"
    assert email.email["sent"].startswith("2017-03-01T10:15:00")
    assert email.title == "Detainer request 1"
    with Archive(mail_archive).catalog() as catalog:
        (page,) = catalog.pages(email.id)
    assert "narwhal detainer number 1" in page.text and "x()" not in page.text
    assert "Attachments: report.pdf, forward.eml" in page.text
    report = documents["request.eml!/report.pdf"]
    forward = documents["request.eml!/forward.eml"]
    inner = documents["request.eml!/forward.eml!/inner.txt"]
    assert report.parent == email.id and forward.parent == email.id and inner.parent == forward.id
    assert forward.email["subject"] == "Detainer request 2"


def test_mailbox_messages(mail_archive: Path) -> None:
    documents = _documents(mail_archive)
    box = documents["box.mbox"]
    messages = [d for p, d in documents.items() if p.startswith("box.mbox!/")]
    assert [d.path for d in messages] == [
        "box.mbox!/message-0001.eml",
        "box.mbox!/message-0002.eml",
    ]
    assert all(d.parent == box.id and d.media_type == EML for d in messages)
    assert [d.email["subject"] for d in messages] == ["Detainer request 3", "Detainer request 4"]


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("from:jsmith1", {"request.eml"}),
        (
            'from:"jane smith" narwhal',
            {
                "request.eml",
                "request.eml!/forward.eml",
                "box.mbox!/message-0001.eml",
                "box.mbox!/message-0002.eml",
            },
        ),
        ("to:cbp.dhs.gov subject:4", {"box.mbox!/message-0002.eml"}),
        ("sent:2017-03-03", {"box.mbox!/message-0001.eml"}),
        ("sent:[2017-03-01 TO 2017-03-02] axolotl OR ocelot", set()),
        ("ocelot OR axolotl", {"request.eml!/report.pdf", "request.eml!/forward.eml!/inner.txt"}),
    ],
)
def test_email_fields_are_searchable(mail_archive: Path, query: str, paths: set[str]) -> None:
    hits = run_json("search", query, "--limit", "100", archive=mail_archive)["hits"]
    assert {h["path"] for h in hits} == paths


# -- merged production PDFs -----------------------------------------------------------------
RECORDS = [  # (title, first line, pages)
    ("Memo on detainers", "MEMORANDUM FOR FIELD OFFICES about the capybara program", 3),
    (
        "Email thread",
        "From: Jane Smith\nSent: Monday, March 6, 2017\nTo: Field Office\nSubject: tapir update",
        2,
    ),
    ("Statistics", "Page 1 of 4 Quarterly statistics on the okapi cases", 4),
]


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("merged")
    pages, number = [], 0
    for _title, opening, count in RECORDS:
        for page in range(count):
            number += 1
            lines = opening.split("\n") if page == 0 else [f"Page {page + 1} continued."]
            pages.append([*lines, "Routine text of the record.", f"FBI-{number:06d}"])
    write_text_pdf(source / "merged.pdf", pages)
    rows = ["BegBates,EndBates,Title"]
    first = 1
    for title, _, count in RECORDS:
        rows.append(f"FBI-{first:06d},FBI-{first + count - 1:06d},{title}")
        first += count
    (source / "inventory.csv").write_text("\n".join(rows) + "\n")
    return source


@pytest.mark.parametrize("mode", ["inventory", "auto"])
def test_a_merged_pdf_is_split_into_records(merged: Path, tmp_path: Path, mode: str) -> None:
    archive = tmp_path / "archive"
    option = str(merged / "inventory.csv") if mode == "inventory" else "auto"
    result = run_cli("ingest", merged, "--id", "fbi", "--split", option, archive=archive)
    assert result.exit_code == 0, result.output
    assert "merged.pdf: split into 3 records:" in result.output
    documents = _documents(archive)
    records = sorted((d for d in documents.values() if d.parent), key=lambda d: d.page_offset)
    assert [(r.path, r.page_count, r.page_offset) for r in records] == [
        ("merged.pdf!/pages 1-3", 3, 0),
        ("merged.pdf!/pages 4-5", 2, 3),
        ("merged.pdf!/pages 6-9", 4, 5),
    ]
    assert [(r.bates_first, r.bates_last) for r in records] == [
        ("FBI-000001", "FBI-000003"),
        ("FBI-000004", "FBI-000005"),
        ("FBI-000006", "FBI-000009"),
    ]
    if mode == "inventory":
        assert [r.title for r in records] == [t for t, _, _ in RECORDS]
        assert "inventory.csv" not in documents  # the inventory describes; it is no record
    else:
        assert "a printed email begins" in result.output and "'Page 1 of N'" in result.output
    merged_doc = documents["merged.pdf"]
    assert merged_doc.page_count == 9 and all(r.parent == merged_doc.id for r in records)
    hits = run_json("search", "tapir", archive=archive)["hits"]
    assert [(h["path"], h["page"], h["bates"]) for h in hits] == [
        ("merged.pdf!/pages 4-5", 1, "FBI-000004")
    ]
    payload = archive / "bags" / "fbi" / "data"
    assert "merged.pdf" in {p.name for p in payload.rglob("*") if p.is_file()}
    assert not any("!" in p.name for p in payload.rglob("*"))


def test_a_bad_inventory_is_one_line(merged: Path, tmp_path: Path) -> None:
    bad = tmp_path / "index.csv"
    bad.write_text("Record,Pages\n1,3\n")
    result = run_cli("ingest", merged, "--id", "fbi", "--split", bad, archive=tmp_path / "a")
    assert result.exit_code == 1 and "no first/last Bates columns" in result.stderr
    missing = tmp_path / "nowhere.csv"
    result = run_cli("ingest", merged, "--id", "fbi", "--split", missing, archive=tmp_path / "a")
    assert result.exit_code == 1 and "nowhere.csv: cannot read the inventory" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- litigation load files ------------------------------------------------------------------
def test_a_dat_and_opt_load_file_set(tmp_path: Path) -> None:
    from PIL import Image, ImageChops, ImageStat

    from foiarchive.ingest.sample import render_scan

    source = tmp_path / "VOL001"
    (source / "IMAGES" / "001").mkdir(parents=True)
    keys = [f"ABC{n:06d}" for n in range(1, 6)]
    texts = ["Memo about the kinkajou review.", "Second page of the memo.",
             "Letter on the manatee project.", "Spreadsheet printout page one.",
             "Spreadsheet printout page two."]  # fmt: skip
    for key, text in zip(keys, texts, strict=True):
        render_scan([text], seed=len(key)).save(source / "IMAGES" / "001" / f"{key}.tif")
    breaks = {0, 2, 3}
    render_scan(["A secret outside the production."]).save(tmp_path / "secret.tif")
    (source / "VOL001.opt").write_text(
        "".join(
            f"{key},VOL001,IMAGES\\001\\{key}.tif,{'Y' if i in breaks else ''},,,\r\n"
            for i, key in enumerate(keys)
        )
        + "ABC000006,VOL001,..\\secret.tif,Y,,,\r\n"
    )
    thorn, sep = "\u00fe", "\x14"
    rows = [["BEGBATES", "ENDBATES", "CUSTODIAN", "DOCTYPE"],
            ["ABC000001", "ABC000002", "Smith, Jane", "Memo"],
            ["ABC000003", "ABC000003", "Lee, Ann", "Letter"],
            ["ABC000004", "ABC000005", "Lee, Ann", "Spreadsheet"],
            ["ABC000009", "ABC000010", "Nobody", "Missing"],
            ["ABC000006", "ABC000006", "Nobody", "Escape"]]  # fmt: skip
    (source / "VOL001.dat").write_bytes(
        "\r\n".join(sep.join(f"{thorn}{cell}{thorn}" for cell in row) for row in rows).encode(
            "utf-8"
        )
    )
    Image.new("L", (10, 10), 255).save(source / "unrelated.png")
    archive = tmp_path / "archive"
    result = run_cli("ingest", source, "--id", "lf", "--format", "json", archive=archive)
    assert result.exit_code == 3, result.output  # the document whose image lies outside
    documents = _documents(archive)
    assembled = {
        p: d for p, d in documents.items() if p.startswith("VOL001.dat!/") and d.status == "ok"
    }
    assert sorted(assembled) == ["VOL001.dat!/ABC000001", "VOL001.dat!/ABC000003",
                                 "VOL001.dat!/ABC000004"]  # fmt: skip
    memo = assembled["VOL001.dat!/ABC000001"]
    assert (memo.page_count, memo.bates_first, memo.bates_last) == (2, "ABC000001", "ABC000002")
    assert memo.fields == {"BEGBATES": "ABC000001", "ENDBATES": "ABC000002",
                           "CUSTODIAN": "Smith, Jane", "DOCTYPE": "Memo"}  # fmt: skip
    assert memo.parent == documents["VOL001.dat"].id
    image = documents["IMAGES/001/ABC000001.tif"]
    assert image.page_count == 0 and image.is_original  # bagged; its page is the memo's
    hits = run_json("search", "kinkajou OR manatee", archive=archive)["hits"]
    assert {(h["path"], h["page"], h["bates"]) for h in hits} == {
        ("VOL001.dat!/ABC000001", 1, "ABC000001"),
        ("VOL001.dat!/ABC000003", 1, "ABC000003"),
    }
    assert run_json("search", "bates:ABC000002", archive=archive)["hits"][0]["page"] == 2
    report = json.loads(result.stdout)
    assert any("ABC000009: no such page" in w["reason"] for w in report["warnings"])
    (escape,) = report["failures"]
    assert escape["path"] == "VOL001.dat!/ABC000006"
    assert "image ..\\secret.tif is missing or unreadable" in escape["reason"]
    assert run_json("search", "secret", archive=archive)["total"] == 0  # never read
    payload = archive / "bags" / "lf" / "data"
    assert (payload / "VOL001.dat").exists() and (payload / "IMAGES/001/ABC000005.tif").exists()
    # the viewer shows each page as its image, with the OCR'd word outlined on it
    client = _client(archive, tmp_path)
    page = client.get(f"/api/documents/{memo.id}/pages/1", params={"q": "kinkajou"}).json()
    assert page["image"] and page["hits"] and page["hits"][0][0] > 0
    first = client.get(f"/api/documents/{memo.id}/pages/1/image", params={"width": "600"})
    second = client.get(f"/api/documents/{memo.id}/pages/2/image", params={"width": "600"})
    assert first.status_code == second.status_code == 200 and first.content != second.content
    shown = Image.open(io.BytesIO(second.content)).convert("L")

    def difference(name: str) -> float:
        with Image.open(payload / "IMAGES/001" / name) as tiff:
            scaled = tiff.convert("L").resize(shown.size, Image.Resampling.LANCZOS)
        return ImageStat.Stat(ImageChops.difference(shown, scaled)).mean[0]

    # page 2 is ABC000002's image: far closer to it than to any other page
    assert all(
        difference("ABC000002.tif") * 3 < difference(other)
        for other in ("ABC000001.tif", "ABC000003.tif", "ABC000004.tif")
    )


def test_page_signals_ignore_scanner_noise_and_ocr_slips() -> None:
    from foiarchive.ingest.split import by_signals
    from foiarchive.schemas import Page

    def page(number: int, stamp: str, width: float = 612, **extra: object) -> Page:
        return Page(number=number, text=f"Some text of the page.\n{stamp}", width=width,
                    height=792, **extra)  # fmt: skip

    sheet = [{"pages": [1, 2], "reasons": ["b6"]}]
    pages = [
        page(1, "", withheld_pages=sheet),  # an FBI deleted page information sheet
        page(2, "19-cv-4048(FBI)-2632"),
        page(3, "19-cv-4048(FBI)-2633", width=628),  # a scan 2.6 % wider: same record
        page(4, "19-cy-4048(FBI)-2634"),  # the prefix misread by OCR, numbers go on
        page(5, "19-cv-4048(FBI)-2650"),  # pages withheld in between
        page(6, "19-cv-4048(FBI)-0001"),  # numbering starts over: a new record
        page(7, "19-cv-4048(FBI)-0002", width=612 * 1.3),  # legal paper: a new record
    ]
    assert [(s.first, s.last, s.reason) for s in by_signals(pages)] == [
        (1, 1, "first page"),
        (2, 5, "the deleted page information sheets end"),
        (6, 6, "the Bates numbers start over"),
        (7, 7, "the page size changes"),
    ]


# -- members in the web viewer: shown and downloaded on their own ---------------------------
def _client(archive: Path, tmp_path: Path) -> TestClient:
    return TestClient(create_app(Served(Archive(archive), image_cache=tmp_path / "images")))


def test_zip_members_download_on_their_own(zipped_archive: Path, tmp_path: Path) -> None:
    documents = _documents(zipped_archive)
    client = _client(zipped_archive, tmp_path)
    for path in ("production.zip!/memo.txt", "production.zip!/inner.zip!/deep/cases.csv"):
        response = client.get(f"/api/documents/{documents[path].id}/original")
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == documents[path].sha256
        assert Path(path).name in response.headers["content-disposition"]
    refused = documents["production.zip!/bomb.txt"]
    assert client.get(f"/api/documents/{refused.id}/original").status_code == 404


def test_an_email_attachment_is_viewed_and_downloaded(mail_archive: Path, tmp_path: Path) -> None:
    report = _documents(mail_archive)["request.eml!/report.pdf"]
    client = _client(mail_archive, tmp_path)
    download = client.get(f"/api/documents/{report.id}/original")
    assert hashlib.sha256(download.content).hexdigest() == report.sha256
    image = client.get(f"/api/documents/{report.id}/pages/1/image")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    page = client.get(f"/api/documents/{report.id}/pages/1", params={"q": "ocelot"}).json()
    assert page["image"] and len(page["hits"]) == 1
    html = client.get(f"/documents/{report.id}", params={"q": "ocelot"}).text
    assert "Download the original" in html and 'class="hit"' in html


def test_a_split_record_shows_its_pages_of_the_merged_pdf(merged: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = run_cli("ingest", merged, "--id", "fbi", "--split", "auto", archive=archive)
    assert result.exit_code == 0, result.output
    documents = _documents(archive)
    client = _client(archive, tmp_path)
    record, whole = documents["merged.pdf!/pages 4-5"], documents["merged.pdf"]
    own = client.get(f"/api/documents/{record.id}/pages/1/image").content
    assert own == client.get(f"/api/documents/{whole.id}/pages/4/image").content
    assert client.get(f"/api/documents/{record.id}/pages/3/image").status_code == 404
    page = client.get(f"/api/documents/{record.id}/pages/1", params={"q": "tapir"}).json()
    assert len(page["hits"]) == 1  # the word found on the merged PDF's page 4
