"""OCR of one page image with Tesseract: text, word boxes and confidences from a single pass.

Before the pass the image is prepared the way OCR engines like it: grayscale, low-resolution
scans upscaled to 300 dpi, small skews straightened. Pages that come back weak (low confidence
or almost no words) get Tesseract's orientation detection and, when it finds the page turned,
a second pass on the upright page: upright pages, the vast majority, pay nothing for it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from PIL import Image

from foiarchive.ingest import labels, reading_order
from foiarchive.ingest.errors import OcrUnavailable
from foiarchive.ingest.limits import Limits
from foiarchive.ingest.programs import ProgramFailed, ProgramTimedOut, tesseract
from foiarchive.ingest.redactions import find_in_image
from foiarchive.schemas import word_boxes_for_text

#: Bump when preprocessing, or the boxes and labels found with OCR, change what a cached result
#: holds, so cached results are not reused. 3: box detection built from edges (real pages);
#: 4: box labels read in one run over all strips; 5: solid boxes under 7 pt and punched holes
#: refused, box sides tested where their edge is tallest; 6: table rows, form cells holding a
#: box and scanner-band corners are no boxes; 7: labels read again only where the page's OCR
#: left ink unread or read a doubtful scrap (ingest.labels); 8: those places gathered on a coarse
#: grid, doubtful scraps only where they start as a code does; 9: condensed transcripts read
#: panel by panel (ingest.reading_order).
PIPELINE_VERSION = "11"
TARGET_DPI = 300
#: Scans below this resolution are upscaled to TARGET_DPI before OCR.
UPSCALE_BELOW_DPI = 200
WEAK_CONFIDENCE = 60.0
#: A page read as fewer words than this is not asked its orientation: a turned page of text
#: reads as many garbled words (60 on a turned test page, 739 on a turned letter). The weak
#: pages with fewer are blank or nearly so (9 of 40 weak pages among the corpus's scanned
#: pages, 0-7 words), or an e-mail printed a letter a line (10-29 words from each of 39 pages),
#: whose letters stand upright: asking cost 2.5% of all OCR time and never turned a page.
MIN_WORDS_TO_TURN = 40
MAX_SKEW_DEGREES = 5.0
#: Tesseract's own line finding copes with less; straightening costs ~0.1 s a page.
MIN_SKEW_DEGREES = 1.0


@dataclass(frozen=True)
class OcrSettings:
    languages: str = "eng"
    dpi: int = TARGET_DPI
    tesseract_version: str = ""

    def cache_key(self) -> str:
        raw = f"{PIPELINE_VERSION}|{self.languages}|{self.dpi}|{self.tesseract_version}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass
class OcrWord:
    text: str
    confidence: float
    # box as fractions (0..1) of the original page image: x0, y0, x1, y1
    box: tuple[float, float, float, float]


@dataclass
class OcrResult:
    text: str
    confidence: float | None  # mean word confidence, 0..100
    words: list[OcrWord] = field(default_factory=list)
    rotation: int = 0  # degrees the page was turned clockwise to read it
    skew: float = 0.0
    width: int = 0  # pixels of the image given to OCR, before preparation
    height: int = 0
    redactions: list[dict[str, Any]] = field(default_factory=list)  # found in the same image

    def to_json(self) -> str:
        # The JSON dataclasses.asdict gave, without its deep copy of every word: 2.8 -> 0.4 ms
        # for a 400-word page, the largest cost per page on a cluster's coordinator.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["words"] = [
            {"text": w.text, "confidence": w.confidence, "box": w.box} for w in self.words
        ]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> OcrResult:
        data = json.loads(text)
        data["words"] = [
            OcrWord(w["text"], w["confidence"], tuple(w["box"])) for w in data["words"]
        ]
        return cls(**data)


@dataclass(frozen=True)
class ReadPage:
    """A page's OCR as a reader hands it to the ingest, made ready where it was read: the
    result without its words, the result as the OCR cache stores it, and its word boxes packed
    as the page record keeps them. For a page of 400 words, measured on 2 shared cores while
    OCR ran: unpickling the words 0.9 ms, to_json 2.5 ms, packing 4.4 ms, all on a cluster's
    coordinator, against 0.005 ms to unpickle this (61 kB instead of 30 kB on the wire)."""

    result: OcrResult  # words left out: `cached` and `boxes` hold them
    cached: str  # OcrResult.to_json()
    boxes: str  # schemas.word_boxes_for_text of the words

    @classmethod
    def of(cls, result: OcrResult, cached: str = "") -> ReadPage:
        boxes = word_boxes_for_text([(w.text, w.box) for w in result.words])
        return cls(replace(result, words=[]), cached or result.to_json(), boxes)


def tesseract_version() -> str:
    """Tesseract's version ('5.3.0', part of the OCR cache key), or OcrUnavailable with how to
    install it."""
    return tesseract.version()


def check_languages(languages: str) -> None:
    available = set(tesseract.languages())
    missing = [lang for lang in languages.split("+") if lang not in available]
    if missing:
        raise OcrUnavailable(
            f"Tesseract language data missing: {', '.join(missing)} "
            f"(installed: {', '.join(sorted(available)) or 'none'}; "
            f"Debian: apt-get install tesseract-ocr-{missing[0]})"
        )


# -- preparation ----------------------------------------------------------------------------
def _page_dpi(image: Image.Image, dpi: int | None) -> int:
    """The scan's real resolution, judged against a letter-size page when the file's is doubtful.

    Image software writes 72 or 96 dpi by default: a 2000x2589 scan "at 96 dpi" is really a
    235 dpi page, and upscaling it would only make OCR slower.
    """
    inferred = int(max(image.size) / 11)
    if dpi is None or (dpi < UPSCALE_BELOW_DPI <= inferred):
        return inferred
    return dpi


def _upscale_factor(image: Image.Image, dpi: int | None, limits: Limits) -> float:
    dpi = _page_dpi(image, dpi)
    if dpi >= UPSCALE_BELOW_DPI:
        return 1.0
    factor = min(TARGET_DPI / max(dpi, 1), 4.0)
    width, height = image.size
    largest = (limits.max_image_pixels / (width * height)) ** 0.5
    return max(1.0, min(factor, largest))


def estimate_skew(image: Image.Image) -> float:
    """Skew in degrees (positive: text runs uphill), from horizontal projection profiles.

    Text lines give sharp peaks in the row sums of dark pixels when the page is level; the angle
    that makes them sharpest is the skew. Done on a small copy, so it costs a few milliseconds.
    """
    import numpy as np  # only the OCR workers need it

    # A box-filter reduction to about 800 pixels: a third of the time of thumbnail()'s
    # resampling, and the profile's peaks are as sharp.
    factor = max(1, round(max(image.size) / 800))
    pixels = np.asarray(image.reduce(factor) if factor > 1 else image, dtype=np.uint8)
    dark = pixels < 128
    if dark.mean() < 0.002 or dark.mean() > 0.5:
        return 0.0
    ys, xs = np.nonzero(dark)
    if len(xs) > 60000:
        keep = np.random.default_rng(0).choice(len(xs), 60000, replace=False)
        ys, xs = ys[keep], xs[keep]
    cx = xs - xs.mean()

    def sharpness(angle: float) -> float:
        shifted = ys + cx * np.tan(np.radians(angle))
        counts = np.bincount(np.round(shifted - shifted.min()).astype(np.int64))
        return float(np.sum(counts.astype(np.float64) ** 2))

    coarse = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    best = max(fine, key=sharpness)
    if abs(best) < MIN_SKEW_DEGREES or sharpness(best) < sharpness(0.0) * 1.05:
        return 0.0
    return round(float(best), 2)


def _prepare(
    image: Image.Image, dpi: int | None, limits: Limits
) -> tuple[Image.Image, float, float]:
    """Grayscale, upscaled and straightened page; returns it with the scale and skew applied."""
    if image.mode != "L":
        image = image.convert("L")
    scale = _upscale_factor(image, dpi, limits)
    if scale > 1.0:
        width, height = image.size
        image = image.resize(
            (round(width * scale), round(height * scale)), Image.Resampling.LANCZOS
        )
    skew = estimate_skew(image)
    if skew:
        image = image.rotate(-skew, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    return image, scale, skew


# -- Tesseract ------------------------------------------------------------------------------
def _run_tesseract(
    path: str, settings: OcrSettings, dpi: int, timeout: int
) -> dict[str, list[Any]]:
    """Raises ProgramError (an IngestError) when Tesseract is missing, times out or fails."""
    return tesseract.image_to_data(
        path, languages=settings.languages, psm=3, dpi=dpi, timeout=timeout
    )


#: Orientation is judged on the page at half resolution from this dpi up: it takes 0.3 s a
#: page instead of 0.5 s here, and on the corpus's turned pages (90, 180 and 270 degrees) gives
#: the same answers with confidence 5-8 (1.5 is enough).
HALF_SCALE_OSD_DPI = 250


def _orientation(image: Image.Image, dpi: int, scratch: str, timeout: int) -> int:
    """Degrees to rotate the image clockwise to make it upright (0 if unsure)."""
    path = os.path.join(scratch, "orientation.pgm")
    (image.reduce(2) if dpi >= HALF_SCALE_OSD_DPI else image).save(path)
    try:
        osd = tesseract.orientation(path, min_characters=20, timeout=timeout)
    except (ProgramFailed, ProgramTimedOut):
        return 0  # too few characters to tell
    if float(osd.get("orientation_conf", 0)) < 1.5:
        return 0
    return int(osd.get("rotate", 0)) % 360


def _assemble(
    data: dict[str, list[Any]], size: tuple[int, int]
) -> tuple[str, list[OcrWord], float | None]:
    """Text in reading order (lines, blank line between paragraphs) and the words with boxes.

    Tesseract's order, except on sheets of pages printed in panels (ingest.reading_order)."""
    width, height = size
    read: list[reading_order.Word] = []
    confidences: dict[int, float] = {}
    for i, text in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if int(data["level"][i]) != 5 or conf < 0 or not str(text).strip():
            continue
        left, top = int(data["left"][i]), int(data["top"][i])
        right, bottom = left + int(data["width"][i]), top + int(data["height"][i])
        box = (
            round(left / width, 5),
            round(top / height, 5),
            round(right / width, 5),
            round(bottom / height, 5),
        )
        line = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        read.append(reading_order.Word(str(text), box, line))
        confidences[id(read[-1])] = conf
    groups = reading_order.reading_order(read) or [read]
    lines: list[str] = []
    words: list[OcrWord] = []
    for number, group in enumerate(groups):
        current: tuple[int, ...] | None = None
        line_words: list[str] = []
        for word in group:
            key = (number, *word.line)
            if key != current:
                if line_words:
                    lines.append(" ".join(line_words))
                if current is not None and key[:3] != current[:3]:
                    lines.append("")  # a new paragraph, or a new panel
                current, line_words = key, []
            line_words.append(word.text)
            words.append(OcrWord(word.text, round(confidences[id(word)], 1), word.box))
        if line_words:
            lines.append(" ".join(line_words))
        if number < len(groups) - 1:
            lines.append("")
    values = list(confidences.values())
    confidence = round(sum(values) / len(values), 2) if values else None
    return "\n".join(lines), words, confidence


def _quality(text: str, confidence: float | None) -> float:
    return (confidence or 0.0) * len(text.split())


def _to_original(words: list[OcrWord], rotation: int) -> list[OcrWord]:
    """Map word boxes read from a page turned by `rotation` back onto the page as scanned."""
    if rotation == 0:
        return words
    mapped = []
    for word in words:
        x0, y0, x1, y1 = word.box
        if rotation == 90:  # page was turned 90 degrees clockwise
            box = (y0, 1 - x1, y1, 1 - x0)
        elif rotation == 180:
            box = (1 - x1, 1 - y1, 1 - x0, 1 - y0)
        else:  # 270
            box = (1 - y1, x0, 1 - y0, x1)
        left, top, right, bottom = (round(v, 5) for v in box)
        mapped.append(OcrWord(word.text, word.confidence, (left, top, right, bottom)))
    return mapped


def _unskew(
    words: list[OcrWord], skew: float, straightened: tuple[int, int], scanned: tuple[int, int]
) -> list[OcrWord]:
    """Map word boxes read from the straightened page back onto the page as scanned.

    Straightening turned the page by `skew` degrees about its middle onto a larger canvas, so a
    box read there lies up to a line's height (1.9 degrees, a letter page's corner: 55 pixels at
    300 dpi) from its word on the page the viewer shows and the boxes are found on. Each box's
    middle is turned back; its size is kept."""
    if not skew:
        return words
    (straight_w, straight_h), (width, height) = straightened, scanned
    cos, sin = math.cos(math.radians(skew)), math.sin(math.radians(skew))
    mapped = []
    for word in words:
        x0, y0, x1, y1 = word.box
        dx = (x0 + x1) / 2 * straight_w - straight_w / 2
        dy = (y0 + y1) / 2 * straight_h - straight_h / 2
        x = (dx * cos + dy * sin + width / 2) / width
        y = (-dx * sin + dy * cos + height / 2) / height
        half_w = (x1 - x0) * straight_w / width / 2
        half_h = (y1 - y0) * straight_h / height / 2
        box = (
            max(0.0, x - half_w),
            max(0.0, y - half_h),
            min(1.0, x + half_w),
            min(1.0, y + half_h),
        )
        left, top, right, bottom = (round(v, 5) for v in box)
        mapped.append(OcrWord(word.text, word.confidence, (left, top, right, bottom)))
    return mapped


def ocr_image(
    image: Image.Image, settings: OcrSettings, *, dpi: int | None, limits: Limits
) -> OcrResult:
    """OCR one page image (see the module docstring for the steps)."""
    original_size = image.size
    prepared, scale, skew = _prepare(image, dpi, limits)
    effective_dpi = int(_page_dpi(image, dpi) * scale)
    with tempfile.TemporaryDirectory(
        prefix="foiarchive-ocr-", dir=tesseract.scratch_dir()
    ) as scratch:
        path = os.path.join(scratch, "page.pgm")
        prepared.save(path)  # uncompressed: no time lost to PNG compression
        data = _run_tesseract(path, settings, effective_dpi, limits.ocr_timeout)
        text, words, confidence = _assemble(data, prepared.size)
        rotation = 0
        if len(words) >= MIN_WORDS_TO_TURN and (confidence or 0) < WEAK_CONFIDENCE:
            turn = _orientation(prepared, effective_dpi, scratch, limits.ocr_timeout)
            if turn:
                # Tesseract says how far to rotate clockwise; PIL rotates counter-clockwise.
                prepared.rotate(-turn, expand=True).save(path)
                data = _run_tesseract(path, settings, effective_dpi, limits.ocr_timeout)
                size = (prepared.size[1], prepared.size[0]) if turn in (90, 270) else prepared.size
                turned_text, turned_words, turned_conf = _assemble(data, size)
                if _quality(turned_text, turned_conf) > _quality(text, confidence):
                    text, words, confidence, rotation = turned_text, turned_words, turned_conf, turn
    scanned = (round(original_size[0] * scale), round(original_size[1] * scale))
    words = _unskew(_to_original(words, rotation), skew, prepared.size, scanned)
    redactions = find_in_image(image, dpi)
    if rotation == 0:
        labels.label_boxes(
            image,
            redactions,
            words,
            languages=settings.languages,
            dpi=_page_dpi(image, dpi),
            limits=limits,
        )
    return OcrResult(
        text=text,
        confidence=confidence,
        words=words,
        rotation=rotation,
        skew=skew,
        width=original_size[0],
        height=original_size[1],
        redactions=redactions,
    )


# -- cache ----------------------------------------------------------------------------------
class OcrCache:
    """OCR results on disk, keyed by the file's sha256, the page and the OCR settings."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str, page: int, settings: OcrSettings) -> Path:
        return self.root / sha256[:2] / sha256 / f"{page:05d}-{settings.cache_key()}.json"

    def get(self, sha256: str, page: int, settings: OcrSettings) -> ReadPage | None:
        path = self._path(sha256, page, settings)
        try:
            cached = path.read_text("utf-8")
            return ReadPage.of(OcrResult.from_json(cached), cached)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, sha256: str, page: int, settings: OcrSettings, cached: str) -> None:
        """Store a result as `OcrResult.to_json` gave it (see ReadPage)."""
        path = self._path(sha256, page, settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(cached)
        os.replace(temporary, path)
