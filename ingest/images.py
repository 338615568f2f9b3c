"""Images as pages: one page per frame (multi-page TIFF), bounded against decompression bombs."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps

from foiarchive.ingest.errors import IngestError
from foiarchive.ingest.limits import Limits


def _open(path: Path, limits: Limits) -> Image.Image:
    limits.apply_to_pillow()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IngestError(
            f"image is larger than the {limits.max_image_pixels:,}-pixel limit "
            "(a decompression bomb or a huge scan)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise IngestError(f"damaged or unreadable image: {exc}") from None
    width, height = image.size
    if width * height > limits.max_image_pixels:
        image.close()
        raise IngestError(
            f"image is {width}x{height} pixels, over the {limits.max_image_pixels:,}-pixel limit"
        )
    return image


def frame_count(path: Path, limits: Limits) -> int:
    with _open(path, limits) as image:
        count = getattr(image, "n_frames", 1)
    if count > limits.max_pages:
        raise IngestError(f"image has {count} frames, over the limit of {limits.max_pages}")
    return count


def load_frame(path: Path, number: int, limits: Limits) -> tuple[Image.Image, int | None]:
    """Frame `number` (1-based) in grayscale, upright per EXIF, and its dpi when recorded."""
    with _open(path, limits) as image:
        try:
            image.seek(number - 1)
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise IngestError(f"frame {number} is {width}x{height} pixels, over the limit")
            dpi = image.info.get("dpi")
            frame = ImageOps.exif_transpose(image.copy()) or image.copy()
            frame.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise IngestError(f"damaged or truncated image (frame {number}): {exc}") from None
    if frame.mode not in ("L", "1"):
        if frame.mode in ("RGBA", "LA", "P", "PA"):
            frame = frame.convert("RGBA")
            background = Image.new("RGBA", frame.size, "white")
            frame = Image.alpha_composite(background, frame)
        frame = frame.convert("L")
    elif frame.mode == "1":
        frame = frame.convert("L")
    resolution = None
    if dpi:
        try:
            resolution = round(float(dpi[0]))
        except (TypeError, ValueError, IndexError):
            resolution = None
    return frame, resolution if resolution and resolution > 1 else None
