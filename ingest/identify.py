"""Identify a file by its content (magic bytes and structure), never by its name.

The extension is only compared afterwards, to warn about mislabelled files: a `.pdf` that is
really a JPEG is ingested as the JPEG it is, and the report says so.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from foiarchive.ingest import office
from foiarchive.ingest.errors import UnsupportedFile

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
EML = "message/rfc822"
MBOX = "application/mbox"
MSG = "application/vnd.ms-outlook"
DAT = "application/x-concordance-dat"
OPT = "application/x-opticon-opt"
#: A file of 0 bytes (libmagic's name for it): a legitimate original, kept with no pages.
EMPTY = "application/x-empty"
EMPTY_WARNING = "empty file (0 bytes): kept and catalogued with no pages"
#: Files that hold other files; each member becomes a document of its own.
CONTAINERS = (ZIP, EML, MBOX, MSG)

_PDF_PRONOM = {
    "1.0": "fmt/14",
    "1.1": "fmt/15",
    "1.2": "fmt/16",
    "1.3": "fmt/17",
    "1.4": "fmt/18",
    "1.5": "fmt/19",
    "1.6": "fmt/20",
    "1.7": "fmt/276",
    "2.0": "fmt/1129",
}
_EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/tiff": {".tif", ".tiff"},
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "image/gif": {".gif"},
    "image/bmp": {".bmp"},
    "image/webp": {".webp"},
    "text/plain": {".txt", ".text", ".log", ".md", ""},
    "text/csv": {".csv", ".tsv", ".txt"},
    XLSX: {".xlsx", ".xlsm"},
    ZIP: {".zip"},
    office.DOCX: {".docx", ".docm", ".dotx"},
    office.PPTX: {".pptx", ".pptm", ".ppsx"},
    office.DOC: {".doc", ".dot"},
    office.XLS: {".xls", ".xlt"},
    office.PPT: {".ppt", ".pps"},
    office.RTF: {".rtf", ".doc"},
    office.ODT: {".odt"},
    office.ODS: {".ods"},
    office.ODP: {".odp"},
    EML: {".eml", ".txt", ""},
    MBOX: {".mbox", ".mbx", ""},
    MSG: {".msg"},
    DAT: {".dat", ".txt"},
    OPT: {".opt", ".txt", ".log"},
}
_SAMPLE = 64 * 1024


@dataclass(frozen=True)
class Identification:
    media_type: str
    pronom: str = ""
    encoding: str = ""  # for text
    warning: str = ""  # e.g. the extension disagrees with the content


def identify(path: Path) -> Identification:
    """What the file really is; raises UnsupportedFile with the reason otherwise."""
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
    if not head:  # agencies do release empty files; the record is that they did
        return Identification(EMPTY, warning=EMPTY_WARNING)
    found = _by_magic(path, head) or _as_text(head)
    if found is None:
        raise UnsupportedFile("unrecognised binary content (not PDF, image, text or spreadsheet)")
    suffix = path.suffix.lower()
    expected = _EXTENSIONS.get(found.media_type, set())
    known_suffix = any(suffix in exts for exts in _EXTENSIONS.values() if exts)
    if suffix and known_suffix and suffix not in expected:
        warning = f"named {suffix} but the content is {found.media_type}"
        return Identification(found.media_type, found.pronom, found.encoding, warning)
    return found


def _by_magic(path: Path, head: bytes) -> Identification | None:
    pdf_at = head.find(b"%PDF-", 0, 1024)
    if pdf_at != -1:
        version = head[pdf_at + 5 : pdf_at + 8].decode("latin-1")
        return Identification("application/pdf", _PDF_PRONOM.get(version, ""))
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return Identification("image/tiff", "fmt/353")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Identification("image/png")
    if head.startswith(b"\xff\xd8\xff"):
        pronom = (
            "fmt/43"
            if b"JFIF\x00\x01\x01" in head[:32]
            else ("fmt/44" if b"JFIF\x00\x01\x02" in head[:32] else "")
        )
        return Identification("image/jpeg", pronom)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Identification("image/gif", "fmt/4" if head[3:6] == b"89a" else "fmt/3")
    if head.startswith(b"BM") and len(head) > 26:
        return Identification("image/bmp")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Identification("image/webp")
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if b"\xfe\x14\xfe" in head[:8192] or b"\xc3\xbe\x14\xc3\xbe" in head[:8192]:
        return Identification(DAT)  # Concordance: fields in thorns, separated by ASCII 20
    if head.startswith(b"{\\rtf"):
        return Identification(office.RTF, "fmt/355")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(path)
    return _mail_kind(head)


def _ole_kind(path: Path) -> Identification:
    import olefile  # comes with extract-msg

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
    except (OSError, ValueError) as exc:
        raise UnsupportedFile(f"damaged OLE2 compound file: {exc}") from None
    if any(name.startswith("__substg1.0_") for name in streams):
        return Identification(MSG, "x-fmt/430")
    if "WordDocument" in streams:
        return Identification(office.DOC, "fmt/40")
    if "Workbook" in streams or "Book" in streams:
        return Identification(office.XLS, "fmt/61")
    if "PowerPoint Document" in streams:
        return Identification(office.PPT, "fmt/126")
    raise UnsupportedFile(
        "an OLE2 compound file that is no Word, Excel, PowerPoint or Outlook file"
    )


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?.*$")
_MAIL_HEADERS = {b"from", b"to", b"cc", b"date", b"subject"}
#: Headers mail software writes and a typed memo ("TO: / FROM: / DATE: / SUBJECT:") does not.
_TRANSPORT_HEADERS = {b"message-id", b"received", b"mime-version", b"return-path"}


def _mail_kind(head: bytes) -> Identification | None:
    """An email (RFC 5322 headers first) or a mailbox of them (each after a 'From ' line)."""
    lines = head.split(b"\n", 60)[:60]
    mbox = bool(lines) and lines[0].startswith(b"From ")
    names = set()
    for line in lines[1:] if mbox else lines:
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue  # a folded header continues
        if not _HEADER_LINE.match(line):
            return None
        names.add(line.split(b":", 1)[0].lower())
    if len(names & _MAIL_HEADERS) < 2 or not (mbox or names & _TRANSPORT_HEADERS):
        return None
    return Identification(MBOX, "fmt/278") if mbox else Identification(EML, "fmt/278")


def _zip_kind(path: Path) -> Identification:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedFile(f"damaged ZIP container: {exc}") from None
    if "[Content_Types].xml" in names:
        for folder, media_type, pronom in (
            ("xl/", XLSX, "fmt/214"),
            ("word/", office.DOCX, "fmt/412"),
            ("ppt/", office.PPTX, "fmt/215"),
        ):
            if any(n.startswith(folder) for n in names):
                return Identification(media_type, pronom)
    if "mimetype" in names:
        kind = _member_text(path, "mimetype")
        for media_type, pronom in ((office.ODT, "fmt/291"), (office.ODS, "fmt/295"),
                                   (office.ODP, "fmt/293")):  # fmt: skip
            if kind == media_type:
                return Identification(media_type, pronom)
    return Identification(ZIP, "x-fmt/263")


def _member_text(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
        if info.file_size > 200:
            return ""
        return archive.read(name).decode("ascii", "replace").strip()


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _as_text(head: bytes) -> Identification | None:
    encoding = _text_encoding(head)
    if encoding is None:
        return None
    sample = head.decode(encoding, errors="ignore")
    if _looks_opticon(sample):
        return Identification(OPT, "", encoding)
    if _looks_tabular(sample):
        return Identification("text/csv", "x-fmt/18", encoding)
    return Identification("text/plain", "x-fmt/111", encoding)


def _text_encoding(head: bytes) -> str | None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the sample's end is still UTF-8.
            if encoding == "utf-8-sig" and exc.start >= len(head) - 3:
                return encoding
            continue
        if len(_CONTROL.findall(text)) <= len(text) // 1000:
            return encoding
    return None


_IMAGE_FILE = re.compile(r"\.(?:tiff?|jpe?g|png|pdf|gif|bmp)$", re.I)


def _looks_opticon(sample: str) -> bool:
    """An Opticon image cross-reference: key,volume,image path,Y or nothing,...,...,pages."""
    lines = [line for line in sample.splitlines()[:30] if line.strip()]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]
    if not lines:
        return False
    for row in csv.reader(lines):
        if len(row) < 4 or not _IMAGE_FILE.search(row[2].strip()):
            return False
        if row[3].strip().upper() not in ("Y", ""):
            return False
    return True


def _looks_tabular(sample: str) -> bool:
    lines = [line for line in sample.splitlines()[:30] if line.strip()]
    if len(lines) > 2 and not sample.endswith("\n"):
        lines = lines[:-1]  # the sample may cut the last line short
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",\t;|")
    except csv.Error:
        return False
    rows = list(csv.reader(lines, dialect))
    widths = {len(row) for row in rows}
    return len(widths) == 1 and widths.pop() >= 2
