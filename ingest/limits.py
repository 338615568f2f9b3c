"""Bounds that keep a hostile or broken file from exhausting memory, disk or time."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class Limits:
    #: A 300 dpi letter page is 8.4 million pixels; 120 million allows A0 posters at 300 dpi.
    max_image_pixels: int = 120_000_000
    max_pages: int = 20_000
    max_rows: int = 2_000_000
    #: Seconds one Tesseract run may take before the page is given up.
    ocr_timeout: int = 600
    #: Files in one ZIP archive or mailbox, attachments of one email.
    max_members: int = 20_000
    #: Bytes one ZIP archive may unpack to, all members together.
    max_unpacked_bytes: int = 8 * 1024**3
    #: A member that expands more than this many times its compressed size is a zip bomb.
    max_compression_ratio: int = 200
    #: ZIP in ZIP in ZIP ...: how deep containers are opened.
    max_nesting: int = 5
    max_email_bytes: int = 512 * 1024**2

    def apply_to_pillow(self) -> None:
        # Pillow warns past this and raises DecompressionBombError past twice this.
        Image.MAX_IMAGE_PIXELS = self.max_image_pixels
