"""The record types every other room speaks, and the JSON Schemas that define them on disk.

This package imports nothing of ours: it is the vocabulary that `ingest`, `index`,
`preservation` and the front ends share.
"""

from foiarchive.schemas.bates import (
    Bates,
    bates_columns,
    bates_key,
    find_bates,
    parse_bates,
    prefix_key,
)
from foiarchive.schemas.records import (
    Box,
    Document,
    Event,
    Page,
    Production,
    TextSource,
    pack_word_boxes,
    unpack_word_boxes,
    word_boxes_for_text,
)
from foiarchive.schemas.search_mapping import elasticsearch_mapping
from foiarchive.schemas.validation import ManifestError, load_manifest, validate_production

__all__ = [
    "Bates",
    "Box",
    "Document",
    "Event",
    "ManifestError",
    "Page",
    "Production",
    "TextSource",
    "bates_columns",
    "bates_key",
    "elasticsearch_mapping",
    "find_bates",
    "load_manifest",
    "pack_word_boxes",
    "parse_bates",
    "prefix_key",
    "unpack_word_boxes",
    "validate_production",
    "word_boxes_for_text",
]
