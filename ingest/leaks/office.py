"""Word and PowerPoint originals (OOXML): tracked deletions, comments, hidden text, notes.

Read straight from the ZIP's XML with entities and the network off; each part is bounded in
size, so a crafted file cannot make us read gigabytes.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from lxml import etree

from foiarchive.schemas.findings import Finding

_SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)
#: Parts larger than this (uncompressed) are not read: a Word body of 50 MB of XML is far past
#: any real memo, and a bomb is refused before it is inflated.
MAX_PART = 50 * 1024 * 1024
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_SLIDE_NUMBER = re.compile(r"(\d+)")


def _part(archive: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_PART:
        return None
    try:
        return etree.fromstring(archive.read(info), parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return None


def _text(element: etree._Element, tag: str) -> str:
    return "".join(t.text or "" for t in element.iter(tag)).strip()


def word_leaks(path: Path) -> list[Finding]:
    with zipfile.ZipFile(path) as archive:
        body = _part(archive, "word/document.xml")
        comments = _part(archive, "word/comments.xml")
    findings: list[Finding] = []
    if body is not None:
        for deletion in body.iter(f"{W}del"):
            text = _text(deletion, f"{W}delText")
            if text:
                author = deletion.get(f"{W}author", "")
                how = "a tracked deletion (w:del)" + (f" by {author}" if author else "")
                findings.append(Finding("tracked_change", None, None, text, how))
        for run in body.iter(f"{W}r"):
            props = run.find(f"{W}rPr")
            if props is not None and props.find(f"{W}vanish") is not None:
                text = _text(run, f"{W}t")
                if text:
                    findings.append(
                        Finding(
                            "hidden_text", None, None, text, "a run formatted hidden (w:vanish)"
                        )
                    )
    if comments is not None:
        for comment in comments.iter(f"{W}comment"):
            text = _text(comment, f"{W}t")
            if text:
                author = comment.get(f"{W}author", "")
                findings.append(
                    Finding("comment", None, None, text, f"a comment by {author or 'someone'}")
                )
    return findings


def slides_leaks(path: Path) -> list[Finding]:
    findings: list[Finding] = []
    with zipfile.ZipFile(path) as archive:
        names = sorted(
            n for n in archive.namelist() if n.startswith("ppt/notesSlides/") and n.endswith(".xml")
        )
        for name in names[:2000]:
            notes = _part(archive, name)
            if notes is None:
                continue
            text = " ".join(
                t.text.strip() for t in notes.iter(f"{A}t") if t.text and not t.text.isdigit()
            ).strip()
            match = _SLIDE_NUMBER.search(name.rsplit("/", 1)[-1])
            if text:
                findings.append(
                    Finding(
                        "speaker_notes",
                        int(match.group(1)) if match else None,
                        None,
                        text,
                        f"speaker notes ({name})",
                    )
                )
        for name in (n for n in archive.namelist() if n.startswith("ppt/comments/")):
            part = _part(archive, name)
            if part is not None:
                text = " ".join(t.text or "" for t in part.iter() if t.tag.endswith("}text"))
                if text.strip():
                    findings.append(Finding("comment", None, None, text.strip(), name))
    return findings
