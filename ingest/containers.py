"""Files that hold other files: ZIP archives (nested too) and email (.eml, .mbox, Outlook .msg).

Each member is copied into a scratch folder under a name of our choosing (a counter and a
cleaned extension), so no member name can write anywhere; where it came from is kept in the
document path: `outer.zip!/inner/report.pdf`, `box.mbox!/message-0001.eml`,
`box.mbox!/message-0001.eml!/report.pdf`. The container itself is the original the bag keeps.
ZIP archives are read by the one safe reader (preservation.packages, the bag packages' reader
too): bounds (members, bytes, compression ratio, nesting) stop zip bombs; a member that lies
about its size, is encrypted, is a link or has a name that climbs out ('..', absolute) is
reported and not extracted, and its siblings are read.
"""

from __future__ import annotations

import email.policy
import email.utils
import itertools
import mailbox
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.identify import MBOX, MSG, ZIP
from foiarchive.ingest.limits import Limits
from foiarchive.preservation.packages import DamagedMember, Package, UnsafePackage

_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_HEADERS = ("from", "to", "cc", "bcc", "date", "subject", "message_id")


@dataclass
class Member:
    name: str  # inside its container, '/'-separated
    source: Path | None  # the extracted copy; None when it was not extracted
    size: int
    problem: str = ""


@dataclass
class Email:
    headers: dict[str, str]  # from, to, cc, bcc, date (as sent), sent (ISO), subject, message_id
    body: str
    attachments: list[Member] = field(default_factory=list)

    def text(self) -> str:
        """What the email's pages hold: the headers people read, then the body."""
        lines = [
            f"{label}: {self.headers[key]}"
            for key, label in (
                ("from", "From"),
                ("to", "To"),
                ("cc", "Cc"),
                ("bcc", "Bcc"),
                ("date", "Date"),
                ("subject", "Subject"),
            )
            if self.headers.get(key)
        ]
        if self.attachments:
            lines.append("Attachments: " + ", ".join(m.name for m in self.attachments))
        return "\n".join(lines) + "\n\n" + self.body.strip()


class Scratch:
    """Numbered files in one folder: where members are extracted."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._counter = itertools.count(1)

    def new_file(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        suffix = _SUFFIX.search(name)
        return self.folder / f"{next(self._counter):07d}{suffix.group().lower() if suffix else ''}"

    def write(self, name: str, data: bytes) -> Member:
        target = self.new_file(name)
        target.write_bytes(data)
        return Member(name, target, len(data))


def members(path: Path, media_type: str, scratch: Scratch, limits: Limits) -> list[Member]:
    """The files inside a ZIP archive or a mailbox, extracted; raises IngestError if the whole
    container is unusable (damaged, or beyond the bounds)."""
    if media_type == ZIP:
        return _zip_members(path, scratch, limits)
    if media_type == MBOX:
        return _mbox_members(path, scratch, limits)
    raise ValueError(media_type)


# -- ZIP ------------------------------------------------------------------------------------
def _zip_members(path: Path, scratch: Scratch, limits: Limits) -> list[Member]:
    """Every file member, extracted under a scratch name, or with the reason it was not: the
    one safe reader (preservation.packages) with ingest's limits."""
    try:
        archive = Package(path, limits.packages, fmt="zip")
    except UnsafePackage as exc:
        raise IngestError(exc.detail) from None
    with archive:
        try:
            archive.check_room(scratch.folder)
        except UnsafePackage as exc:
            raise IngestError(exc.detail) from None
        found: list[Member] = []
        seen: set[str] = set()
        for entry in archive.entries:
            if entry.kind == "dir":
                continue
            name = _unique(entry.name, seen)
            if entry.problem:
                found.append(Member(name, None, entry.size, f"{entry.problem}: not extracted"))
                continue
            target = scratch.new_file(name)
            try:
                archive.extract(entry, target)
            except DamagedMember as exc:
                found.append(Member(name, None, entry.size, f"damaged member: {exc.reason}"))
                continue
            except UnsafePackage as exc:  # the whole archive's bound, passed while writing
                found.append(Member(name, None, entry.size, f"{exc.detail}: not extracted"))
                continue
            found.append(Member(name, target, entry.size))
        return found


def _unique(name: str, seen: set[str]) -> str:
    """Two members may carry the same name; the second becomes 'name (2)'."""
    candidate, number = name, 1
    while candidate in seen:
        number += 1
        stem, dot, suffix = name.rpartition(".")
        candidate = f"{stem} ({number}).{suffix}" if dot and stem else f"{name} ({number})"
    seen.add(candidate)
    return candidate


# -- mailboxes and email --------------------------------------------------------------------
def _mbox_members(path: Path, scratch: Scratch, limits: Limits) -> list[Member]:
    try:
        box = mailbox.mbox(str(path), create=False)
        keys = box.keys()
    except (OSError, mailbox.Error) as exc:
        raise IngestError(f"unreadable mailbox: {exc}") from None
    if len(keys) > limits.max_members:
        raise IngestError(f"{len(keys):,} messages, over the limit of {limits.max_members:,}")
    found = []
    for number, key in enumerate(keys, start=1):
        data = box.get_bytes(key)
        found.append(scratch.write(f"message-{number:04d}.eml", data))
    box.close()
    return found


def read_email(path: Path, media_type: str, scratch: Scratch, limits: Limits) -> Email:
    """Headers, body text and attachments (extracted) of one .eml or Outlook .msg."""
    if path.stat().st_size > limits.max_email_bytes:
        raise IngestError(f"email over {limits.max_email_bytes:,} bytes")
    if media_type == MSG:
        return _read_msg(path, scratch, limits)
    with path.open("rb") as handle:
        message = BytesParser(policy=email.policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    headers = {key: _header(message, key.replace("_", "-")) for key in _HEADERS}
    headers["sent"] = _iso(headers["date"])
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        content = _content(body_part)
        body = html_text(content) if body_part.get_content_subtype() == "html" else content
    attachments: list[Member] = []
    seen: set[str] = set()
    for number, part in enumerate(message.iter_attachments(), start=1):
        if len(attachments) >= limits.max_members:
            break
        name = _unique(_attachment_name(part, number), seen)
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()
            data = inner.as_bytes() if hasattr(inner, "as_bytes") else bytes(inner)
        else:
            data = part.get_payload(decode=True) or b""
        attachments.append(scratch.write(name, data))
    return Email(headers, body, attachments)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a malformed header the policy cannot parse
        value = message.get_all(name, [""])[0] if message.get_all(name) else ""
    return " ".join(str(value or "").split())


def _content(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _attachment_name(part: Any, number: int) -> str:
    name = part.get_filename() or ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()  # a name, never a path
    if not name or name in (".", ".."):
        kind = part.get_content_type()
        extension = {"message/rfc822": ".eml", "application/pdf": ".pdf", "text/plain": ".txt"}
        name = f"attachment-{number}{extension.get(kind, '')}"
    return name


def _iso(date: str) -> str:
    """An RFC 5322 date as an ISO date-time, or '' when it cannot be read."""
    try:
        parsed = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return ""
    return parsed.isoformat() if parsed else ""


def html_text(markup: str) -> str:
    """The readable text of an HTML body (scripts and styles dropped, no network, no entities)."""
    from lxml import html as lxml_html

    if not markup.strip():
        return ""
    try:
        tree = lxml_html.document_fromstring(markup)
    except (ValueError, lxml_html.etree.ParserError):
        return markup
    for element in tree.xpath("//script|//style"):
        element.drop_tree()
    for element in tree.xpath("//br|//p|//div|//tr|//li"):
        element.tail = "\n" + (element.tail or "")
    return "\n".join(" ".join(line.split()) for line in tree.text_content().splitlines()).strip()


def _read_msg(path: Path, scratch: Scratch, limits: Limits) -> Email:
    import extract_msg

    try:
        # openMsg gives the Message subclass for an email; its annotation names only the base
        message: Any = extract_msg.openMsg(str(path), delayAttachments=False)
    except Exception as exc:  # extract-msg raises many types for damaged files
        raise IngestError(f"unreadable Outlook message: {exc}") from None
    try:
        sent = message.date
        headers = {
            "from": _clean(message.sender),
            "to": _clean(message.to),
            "cc": _clean(message.cc),
            "bcc": _clean(getattr(message, "bcc", "")),
            "date": email.utils.format_datetime(sent) if sent else "",
            "sent": sent.isoformat() if sent else "",
            "subject": _clean(message.subject),
            "message_id": _clean(getattr(message, "messageId", "")),
        }
        body = message.body or ""
        if not body.strip() and getattr(message, "htmlBody", None):
            body = html_text(message.htmlBody.decode("utf-8", "replace"))
        attachments: list[Member] = []
        seen: set[str] = set()
        for number, attachment in enumerate(message.attachments, start=1):
            if len(attachments) >= limits.max_members:
                break
            raw_name = attachment.longFilename or attachment.shortFilename or ""
            name = _unique(
                raw_name.replace("\\", "/").rsplit("/", 1)[-1] or f"attachment-{number}", seen
            )
            data = attachment.data
            if isinstance(data, bytes):
                attachments.append(scratch.write(name, data))
            else:
                attachments.append(Member(name, None, 0, "an embedded Outlook item: not read"))
        return Email(headers, body, attachments)
    finally:
        message.close()


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())
