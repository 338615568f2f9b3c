"""What a PDF keeps besides its pages: earlier revisions, attachments, form values, bookmarks,
and metadata (images stored whole but cropped by the page are found page by page, in
leaks.pages)."""

from __future__ import annotations

import mmap
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

from foiarchive.schemas.findings import Finding

#: An earlier revision is read only when the file has at most this many (an edited form can
#: have hundreds; each costs a parse of the prefix).
MAX_REVISIONS = 20
_WORD = re.compile(r"[^\W_]{3,}")
_EOF = re.compile(rb"%%EOF[ \t]*(\r\n|\r|\n)?")
_META_KEYS = ("/Subject", "/Keywords")
_STANDARD_INFO = {"/Title", "/Author", "/Creator", "/Producer", "/CreationDate", "/ModDate"}
_STANDARD_INFO |= {"/Trapped", *_META_KEYS}


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def page_texts(pdf: pdfium.PdfDocument) -> list[str]:
    texts = []
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_bounded())
            textpage.close()
        finally:
            page.close()
    return texts


def revision_ends(path: Path) -> list[int]:
    """Where each earlier revision ends (after its %%EOF), the last MAX_REVISIONS of them;
    [] for a file saved once. The file is mapped, not read into memory."""
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            return []
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return [m.end() for m in _EOF.finditer(data)][:-1][-MAX_REVISIONS:]


def earlier_revisions(path: Path, ends: list[int], final: list[str]) -> list[Finding]:
    """Words an earlier revision (a prefix of the file ending at an earlier %%EOF) had on a
    page that the final revision has nowhere: what an incremental update removed."""
    if not ends:
        return []
    data = path.read_bytes()
    kept = words("\n".join(final))
    findings: list[Finding] = []
    seen: set[str] = set()
    for number, end in enumerate(ends, start=1):
        try:
            old = pdfium.PdfDocument(data[:end])
        except pdfium.PdfiumError:
            continue  # a linearized file's first section, or not a whole revision
        try:
            texts = page_texts(old)
        finally:
            old.close()
        for page, text in enumerate(texts, start=1):
            removed = [w for w in _WORD.findall(text) if w.lower() not in kept]
            fresh = [w for w in dict.fromkeys(removed) if w.lower() not in seen]
            if fresh:
                seen.update(w.lower() for w in fresh)
                findings.append(
                    Finding(
                        "earlier_revision",
                        page,
                        None,
                        " ".join(fresh),
                        f"revision {number} of {len(ends) + 1} (ending at byte {end}) has these "
                        "words; the final revision has them nowhere",
                    )
                )
    return findings


def structure(path: Path, visible: Callable[[], set[str]], hidden: set[str]) -> list[Finding]:
    """Attachments, hidden form values, bookmarks and links, metadata (pikepdf). `visible`
    gives the words the pages show, asked for only when there is a bookmark or link."""
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except (pikepdf.PdfError, pikepdf.PasswordError, OSError):
        return []
    with pdf:
        findings = _attachments(pdf) + _form_fields(pdf) + _metadata(pdf)
        findings += _bookmarks(pdf, visible, hidden)
    return findings


def _attachments(pdf: Any) -> list[Finding]:
    import pikepdf

    findings: list[Finding] = []
    for name, spec in pdf.attachments.items():
        try:
            size = len(spec.get_file().read_bytes())
        except (pikepdf.PdfError, KeyError, ValueError):
            size = -1
        findings.append(
            Finding(
                "embedded_file", None, None, f"{name} ({size} bytes)", "in the EmbeddedFiles tree"
            )
        )
    for number, page in enumerate(pdf.pages, start=1):
        for annot in page.get("/Annots", []):
            if annot.get("/Subtype") == pikepdf.Name.FileAttachment:
                spec = annot.get("/FS")
                name = str(spec.get("/UF", spec.get("/F", ""))) if spec is not None else ""
                findings.append(
                    Finding("embedded_file", number, None, name, "a file attachment annotation")
                )
    return findings


def _form_fields(pdf: Any) -> list[Finding]:
    """Field values a viewer does not show: the field or its widget is hidden or NoView."""
    form = pdf.Root.get("/AcroForm")
    if form is None:
        return []
    findings: list[Finding] = []
    stack = list(form.get("/Fields", []))
    while stack and len(findings) < 1000:
        field = stack.pop()
        stack.extend(field.get("/Kids", []))
        value = field.get("/V")
        flags = int(field.get("/F", 0))
        if value is None or not str(value).strip():
            continue
        if flags & 0b100010:  # Hidden (2) or NoView (32)
            findings.append(
                Finding(
                    "form_field",
                    None,
                    None,
                    f"{field.get('/T', '')}: {value}",
                    "a form field with a value whose widget is hidden",
                )
            )
    return findings


def _metadata(pdf: Any) -> list[Finding]:
    findings: list[Finding] = []
    for key, value in pdf.docinfo.items():
        text = str(value).strip()
        if text and (key in _META_KEYS or key not in _STANDARD_INFO):
            findings.append(Finding("metadata", None, None, f"{key[1:]}: {text}", "info dict"))
    try:
        # pikepdf warns (on stderr, in the middle of a progress bar) of XMP it cannot sync
        # with the info dictionary; only the history is read here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
                history = str(xmp.get("xmpMM:History", "") or "")
    except Exception:  # a broken XMP packet is no leak, and pikepdf raises several types
        history = ""
    if history.strip():
        findings.append(Finding("metadata", None, None, f"History: {history}", "XMP"))
    return findings


def _bookmarks(pdf: Any, visible_words: Callable[[], set[str]], hidden: set[str]) -> list[Finding]:
    """Outline titles and link targets naming words that are hidden on the pages or absent."""
    import pikepdf

    named: list[tuple[int | None, str, str]] = []
    try:
        with pdf.open_outline() as outline:
            stack = list(outline.root)
            while stack and len(named) < 5000:
                item = stack.pop()
                named.append((None, item.title or "", "a bookmark title"))
                stack.extend(item.children)
    except (pikepdf.PdfError, RecursionError):
        pass
    for number, page in enumerate(pdf.pages, start=1):
        for annot in page.get("/Annots", []):
            action = annot.get("/A")
            if annot.get("/Subtype") == pikepdf.Name.Link and action is not None:
                uri = action.get("/URI")
                if uri is not None:
                    named.append((number, str(uri), "a link target"))
    findings: list[Finding] = []
    visible = visible_words() if named else set()
    for page, text, what in named:
        absent = what == "a bookmark title"  # a URL's host and path words are never shown
        leaked = sorted(
            w for w in words(text) if w in hidden or (absent and w not in visible and w.isalpha())
        )
        if leaked:
            findings.append(
                Finding(
                    "bookmark",
                    page,
                    None,
                    text,
                    f"{what} naming {', '.join(leaked)}, which the pages do not show",
                )
            )
    return findings
