"""Reading a changed region of a page again, for the release diff (disclosure.page_images).

A region is a line or a few of a page rendered at 1100 pixels wide and enlarged three times by
the caller; read as one block of text (psm 6), not as a page whose layout is to be found.
"""

from __future__ import annotations

import os
import tempfile

from PIL import Image

from foiarchive.disclosure.page_images import CropReader, CropUnread, PixelCompare, layout_images
from foiarchive.disclosure.pixel_cache import PixelCache
from foiarchive.index.catalog import Catalog
from foiarchive.ingest.programs import ProgramError, ProgramFailed, tesseract
from foiarchive.schemas.layout import Layout

#: A crop is one to a few lines: seconds, not the minute a page may take.
CROP_TIMEOUT = 30
#: Words read with less confidence (0-100) are scraps of the neighbouring lines.
MIN_CONFIDENCE = 65
#: The comparison width over a letter page's 8.5 inches, enlarged three times.
CROP_DPI = 390


def crop_reader(languages: str = "eng") -> CropReader:
    """A function reading one crop with Tesseract; CropUnread when Tesseract is missing, fails
    or times out (the diff shows the region without its words, not an error)."""

    def read(image: Image.Image) -> str:
        with tempfile.TemporaryDirectory(
            prefix="foiarchive-crop-", dir=tesseract.scratch_dir()
        ) as scratch:
            path = os.path.join(scratch, "crop.pgm")
            image.convert("L").save(path)
            try:
                data = tesseract.image_to_data(
                    path, languages=languages, psm=6, dpi=CROP_DPI, timeout=CROP_TIMEOUT
                )
            except ProgramFailed as exc:  # its stderr names server paths: not for the page
                raise CropUnread(f"{exc.program} failed (exit code {exc.returncode})") from None
            except ProgramError as exc:  # missing or timed out
                raise CropUnread(str(exc)) from None
        # The cut halves of the lines above and below a box read as low-confidence scraps
        # ("Giynerviacor"): only the words Tesseract is fairly sure of are the passage.
        return " ".join(
            str(word).strip()
            for word, confidence in zip(data["text"], data["conf"], strict=True)
            if str(word).strip() and float(confidence) >= MIN_CONFIDENCE
        )

    return read


def page_comparison(
    layout: Layout, catalog: Catalog, languages: str = "eng", cache: PixelCache | None = None
) -> PixelCompare:
    """What diff_productions needs to compare an archive's scanned pages by their images."""
    return PixelCompare(layout_images(layout, catalog), crop_reader(languages), cache)
