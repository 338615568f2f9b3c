"""The original files behind an export of hits, each once, into a folder or a ZIP, with a
manifest CSV saying which document each file is.

Member names never come from the data as they are: a file is named by its sha256 and its
sanitised base name (`files/3f2a9c1e0b7d4a61-memo_2017.pdf`), so no path in a production can
climb out of the folder or shadow another member. Files are copied in chunks (zipfile streams
from disk), so memory does not grow with their size.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from foiarchive.archive import Archive
from foiarchive.index.catalog import Catalog
from foiarchive.ingest.errors import IngestError
from foiarchive.preservation.rendition import delivered_file

MANIFEST_COLUMNS = ("production", "document", "path", "sha256", "file", "note")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def member_name(sha256: str, path: str) -> str:
    """'files/<first 16 of sha256>-<base name with only [A-Za-z0-9._-], at most 80 long>'."""
    base = _UNSAFE.sub("_", PurePosixPath(path.replace("\\", "/")).name).lstrip(".")[:80]
    return f"files/{sha256[:16]}-{base or 'file'}"


def write_hit_files(
    archive: Archive, catalog: Catalog, document_ids: Iterable[str], target: Path
) -> int:
    """Copy the delivered files of these documents into `target` (a .zip file, else a folder
    that must not exist yet); returns how many files were written."""
    as_zip = target.suffix.lower() == ".zip"
    if target.exists():
        raise IngestError(f"{target}: exists already; give a new folder or .zip name")
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    written: set[str] = set()
    try:
        bundle = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) if as_zip else None
        if bundle is None:
            (target / "files").mkdir(parents=True)
        for document_id in document_ids:
            document = catalog.document(document_id)
            if document is None:
                continue
            source = delivered_file(archive.layout, document)
            row = [document.production_id, document.id, document.path, document.sha256]
            if source is None or not source.is_file():
                writer.writerow([*row, "", "inside another file; no file of its own"])
                continue
            name = member_name(document.sha256, document.path)
            if document.sha256 not in written:
                if bundle is not None:
                    bundle.write(source, name)
                else:
                    shutil.copyfile(source, target / name)
                written.add(document.sha256)
            writer.writerow([*row, name, ""])
        if bundle is not None:
            bundle.writestr("manifest.csv", manifest.getvalue())
            bundle.close()
        else:
            (target / "manifest.csv").write_text(manifest.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise IngestError(f"{target}: cannot write the files: {exc.strerror or exc}") from None
    return len(written)
