"""Bounds that keep a hostile or broken file from exhausting memory, disk or time."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from foiarchive.preservation.packages import PackageLimits

#: ZIP archives share one set of bounds with bag packages; the numbers are explained there.
_PACKAGES = PackageLimits()


@dataclass(frozen=True)
class Limits:
    #: A 300 dpi letter page is 8.4 million pixels; 120 million allows A0 posters at 300 dpi.
    max_image_pixels: int = 120_000_000
    max_pages: int = 20_000
    max_rows: int = 2_000_000
    #: Seconds one Tesseract run may take before the page is given up.
    ocr_timeout: int = 600
    #: Entries in one ZIP archive; messages in one mailbox, attachments of one email.
    max_members: int = _PACKAGES.max_members
    #: Bytes one ZIP archive may unpack to, all members together.
    max_unpacked_bytes: int = _PACKAGES.max_unpacked_bytes
    #: A member (or a ZIP as a whole) that expands more than this many times its compressed
    #: size, past 1 MiB, is a zip bomb.
    max_compression_ratio: int | None = _PACKAGES.max_compression_ratio
    #: ZIP in ZIP in ZIP ...: how deep containers are opened.
    max_nesting: int = _PACKAGES.max_nesting
    #: Free bytes a ZIP's members must leave on the disk they are extracted to.
    keep_free_bytes: int = _PACKAGES.keep_free_bytes
    max_email_bytes: int = 512 * 1024**2

    @property
    def packages(self) -> PackageLimits:
        """These bounds as the safe archive reader (preservation.packages) takes them."""
        return PackageLimits(
            max_members=self.max_members,
            max_unpacked_bytes=self.max_unpacked_bytes,
            max_compression_ratio=self.max_compression_ratio,
            max_nesting=self.max_nesting,
            keep_free_bytes=self.keep_free_bytes,
        )

    def apply_to_pillow(self) -> None:
        # Pillow warns past this and raises DecompressionBombError past twice this.
        Image.MAX_IMAGE_PIXELS = self.max_image_pixels
