"""PREMIS 3 event logs (lxml): what was done to each object, by whom, and how it went."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from foiarchive.schemas import Document, Event, Production

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{PREMIS_NS} https://www.loc.gov/standards/premis/v3/premis.xsd"
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _el(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{PREMIS_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def document_events(document: Document, agent: str) -> list[Event]:
    """The events every ingested file went through, from what its record says."""
    obj = f"data/{document.path}"
    time = document.ingested_at
    events = [
        Event(
            "message digest calculation", obj, "success", f"sha256 {document.sha256}", agent, time
        ),
        Event(
            "format identification",
            obj,
            "success",
            f"{document.media_type} {document.pronom}".strip(),
            agent,
            time,
        ),
    ]
    if document.status != "ok":
        events.append(Event("ingestion", obj, "failure", document.error, agent, time))
        return events
    if document.text_source in ("ocr", "mixed"):
        confidence = (
            f", mean confidence {document.ocr_confidence:.1f}"
            if document.ocr_confidence is not None
            else ""
        )
        events.append(Event("OCR", obj, "success", f"Tesseract{confidence}", agent, time))
    events.append(Event("ingestion", obj, "success", f"{document.page_count} pages", agent, time))
    return events


def _identify(element: etree._Element, document: Document) -> None:
    """Originals are named by their place in the bag; a member of a ZIP or an email is no file
    of the bag, so it is named by its path inside its container."""
    if document.parent:
        _el(element, f"{element.tag.split('}')[1]}Type", "foiarchive-member")
        _el(element, f"{element.tag.split('}')[1]}Value", document.path)
    else:
        _el(element, f"{element.tag.split('}')[1]}Type", "local")
        _el(element, f"{element.tag.split('}')[1]}Value", f"data/{document.path}")


def premis_xml(
    production: Production, documents: Iterable[Document], events: Iterable[Event], agent: str
) -> bytes:
    """The production's PREMIS document: one object per file, then every event in time order."""
    root = etree.Element(
        f"{{{PREMIS_NS}}}premis", nsmap={"premis": PREMIS_NS, "xsi": XSI_NS}, version="3.0"
    )
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    all_events = list(events)
    documents = list(documents)
    by_id = {d.id: d for d in documents}
    for document in documents:
        obj = _el(root, "object")
        obj.set(f"{{{XSI_NS}}}type", "premis:file")
        _identify(_el(obj, "objectIdentifier"), document)
        characteristics = _el(obj, "objectCharacteristics")
        fixity = _el(characteristics, "fixity")
        _el(fixity, "messageDigestAlgorithm", "SHA-256")
        _el(fixity, "messageDigest", document.sha256)
        _el(characteristics, "size", str(document.size))
        fmt = _el(characteristics, "format")
        designation = _el(fmt, "formatDesignation")
        _el(designation, "formatName", document.media_type)
        if document.pronom:
            registry = _el(fmt, "formatRegistry")
            _el(registry, "formatRegistryName", "PRONOM")
            _el(registry, "formatRegistryKey", document.pronom)
        parent = by_id.get(document.parent)
        if parent is not None:
            relationship = _el(obj, "relationship")
            _el(relationship, "relationshipType", "structural")
            _el(relationship, "relationshipSubType", "is included in")
            _identify(_el(relationship, "relatedObjectIdentifier"), parent)
        all_events.extend(document_events(document, agent))
    for number, event in enumerate(sorted(all_events, key=lambda e: e.time), start=1):
        element = _el(root, "event")
        identifier = _el(element, "eventIdentifier")
        _el(identifier, "eventIdentifierType", "local")
        _el(identifier, "eventIdentifierValue", f"{production.id}-event-{number}")
        _el(element, "eventType", event.type)
        _el(element, "eventDateTime", event.time)
        if event.detail:
            _el(_el(element, "eventDetailInformation"), "eventDetail", event.detail)
        _el(_el(element, "eventOutcomeInformation"), "eventOutcome", event.outcome)
        agent_link = _el(element, "linkingAgentIdentifier")
        _el(agent_link, "linkingAgentIdentifierType", "software")
        _el(agent_link, "linkingAgentIdentifierValue", event.agent or agent)
        object_link = _el(element, "linkingObjectIdentifier")
        _el(object_link, "linkingObjectIdentifierType", "local")
        _el(object_link, "linkingObjectIdentifierValue", event.object)
    software = _el(root, "agent")
    agent_id = _el(software, "agentIdentifier")
    _el(agent_id, "agentIdentifierType", "software")
    _el(agent_id, "agentIdentifierValue", agent)
    _el(software, "agentName", agent)
    _el(software, "agentType", "software")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def read_events(data: bytes) -> list[Event]:
    """Events of a PREMIS document (entities and network off), for rebuilding a catalog."""
    root = etree.fromstring(data, parser=_SAFE)
    ns = {"p": PREMIS_NS}
    events = []
    for element in root.findall("p:event", ns):

        def text(path: str, element: etree._Element = element) -> str:
            found = element.find(path, ns)
            return (found.text or "") if found is not None else ""

        events.append(
            Event(
                type=text("p:eventType"),
                object=text("p:linkingObjectIdentifier/p:linkingObjectIdentifierValue"),
                outcome=text("p:eventOutcomeInformation/p:eventOutcome") or "success",  # type: ignore[arg-type]
                detail=text("p:eventDetailInformation/p:eventDetail"),
                agent=text("p:linkingAgentIdentifier/p:linkingAgentIdentifierValue"),
                time=text("p:eventDateTime"),
            )
        )
    return events
