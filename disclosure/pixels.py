"""What changed on a scanned page between two releases, read from the pixels as a reader sees it.

Two OCR reads of the same scan differ in dozens of words ("Gilgettic" / "Gilpateic"), so
comparing OCR text calls every page changed. Here the two page images are put on top of each
other (each straightened, then the new one scaled and shifted onto the old) and only the ink one
side has and the other lacks, beyond what scanner noise, blur and JPEG do to strokes, makes a
region. Each region is then named from what each side shows there: a box (solid or outlined)
added or lifted, text newly released (visible now, covered or blank before), text newly
withheld, or a marking changed (a stamp or banner, or text that merely differs).

Only numpy, scipy and Pillow: the caller hands in the two page images (rendered from the
originals in the bags) and, if it wants the changed regions read, a function that reads a crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

#: Pages are compared at this width in pixels (about 130 dpi on a letter page): a line of
#: 10-point type is 18 pixels tall, enough to tell a word from a speck.
WIDTH = 1100
#: A pixel is ink when darker than this share of the page's paper white, or than the page's
#: Otsu level if that is lighter (up to INK_LIGHT).
INK = 0.6
#: Ink is never lighter than this share of the paper, whatever the page's Otsu level says.
INK_LIGHT = 0.8
#: Ink specks smaller than this many pixels (scanner dust, JPEG ringing) are not looked at.
SPECK = 8
#: Ink within this many pixels of ink on the other side is the same ink: blur thickens strokes
#: by a pixel or two and alignment is good to about a pixel.
TOLERANCE = 2
#: Each tile of this many pixels is fitted again by up to LOCAL_SHIFT pixels each way.
TILE, LOCAL_SHIFT = 120, 3
#: A band this share of the page wide at each edge is not compared: scanner edges and the fill
#: of a turned page. (What one scan cut off and the other kept is left out by Aligned.seen.)
EDGE = 0.015
#: Changed ink is gathered into regions across word gaps and line spacing (pixels, x and y).
GATHER = (31, 13)
#: A region is a change when at least this many pixels of ink changed...
MIN_CHANGED = 120
#: ...and they are this share of the ink on that side: a misread stroke edge changes a small
#: share of a word's ink, a new word changes all of it.
MIN_SHARE = 0.3
#: A side of a region is blank below this ink density and a solid box above the second.
BLANK, SOLID = 0.02, 0.85
#: A box's side is a line of ink along this share of its length; inside it this share at most
#: is ink (a speck, a pen tick), where a line of type fills 15-25%.
RULED, BLANK_INSIDE = 0.7, 0.06
#: The other side is paper, not a faint copy of the ink, where lighter than this of the paper.
FAINT = 0.9
#: A ruled line is at most this many pixels thick at the comparison width.
MAX_LINE = 5
#: Outlines are ink darker than this share of the paper (thin lines blur to grey).
LINE_INK = 0.85
#: Ink this dense over the span of a side's changed pixels is a filled box.
FILLED = 0.85
#: Regions in these bands at the top and bottom of the page are stamps and banners.
MARGIN = 0.07
#: Regions starting this far right are margin notes: the exemption codes beside boxes.
SIDE_MARGIN = 0.22
#: Rotations tried when straightening a page (degrees).
MAX_SKEW = 3.0
#: Scales tried when fitting the new page on the old.
SCALES = tuple(round(0.95 + 0.005 * i, 3) for i in range(21))

RegionKind = Literal["released", "withheld", "box_added", "box_lifted", "marking"]


@dataclass
class Region:
    """One place where the pages differ; boxes are fractions of the (straightened) old page."""

    kind: RegionKind
    box: tuple[float, float, float, float]
    old: str  # what the old side shows there: blank, text, box
    new: str
    changed_pixels: int
    #: Around the ink only the new side has, and only the old side has: what is read again
    #: (the region itself reaches into the lines above and below).
    new_ink: tuple[float, float, float, float] | None = None
    old_ink: tuple[float, float, float, float] | None = None


@dataclass
class Aligned:
    """The two pages in one frame: the old straightened, the new fitted onto it."""

    old: Image.Image
    new: Image.Image
    old_skew: float
    new_skew: float
    scale: float
    shift: tuple[int, int]  # (dx, dy) in pixels at WIDTH
    score: float  # correlation of the fitted pages' ink, 0..1
    seen: tuple[int, int, int, int] = (0, 0, 0, 0)  # the part of the old page both scans hold


def grey(image: Image.Image) -> Image.Image:
    """The page in grey at the comparison width."""
    image = image.convert("L")
    if image.width != WIDTH:
        height = max(1, round(image.height * WIDTH / image.width))
        image = image.resize((WIDTH, height), Image.Resampling.LANCZOS)
    return image


def ink(image: Image.Image, darkness: float = INK) -> NDArray[np.bool_]:
    """Ink pixels without specks: darker than `darkness` of the paper, after a light blur."""
    pixels = ndimage.gaussian_filter(np.asarray(image, dtype=np.float32), 0.8)
    paper = max(float(np.percentile(pixels, 90)), 64.0)
    mask = pixels < paper * max(darkness, _otsu(pixels) / paper)
    labels, count = ndimage.label(mask)
    if count:
        sizes = np.bincount(labels.ravel())
        keep = sizes >= SPECK
        keep[0] = False
        mask = keep[labels]
    return mask


def _otsu(pixels: NDArray[np.float32]) -> float:
    """The grey level that best splits the page into paper and ink (Otsu), at most INK_LIGHT
    of the paper: light typewriter text blurs to 150-190 at the comparison width, under a
    fixed 0.6 of the paper only its darkest specks were ink."""
    paper = float(np.percentile(pixels, 90))
    # Without the black of filled boxes: on a page with many, Otsu splits them from the rest
    # and grey type fell on the paper's side.
    counts, edges = np.histogram(pixels, bins=64, range=(paper * 0.3, paper + 1))
    weights = np.cumsum(counts)
    means = np.cumsum(counts * edges[:-1])
    total, grand = weights[-1], means[-1]
    below, above = weights[:-1], total - weights[:-1]
    valid = (below > 0) & (above > 0)
    between = np.zeros(len(below))
    mu_below = means[:-1][valid] / below[valid]
    mu_above = (grand - means[:-1][valid]) / above[valid]
    between[valid] = below[valid] * above[valid] * (mu_below - mu_above) ** 2
    level = float(edges[int(np.argmax(between)) + 1])
    return min(level, paper * INK_LIGHT)


def skew(mask: NDArray[np.bool_]) -> float:
    """The page's tilt in degrees: the angle at which its rows of ink line up sharpest."""
    ys, xs = np.nonzero(mask[::2, ::2])
    if len(xs) < 50:
        return 0.0
    xs = xs - xs.mean()

    def sharpness(angle: float) -> float:
        rows = np.round(ys + xs * math.tan(math.radians(angle))).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.square(counts, dtype=np.float64).sum())

    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.25)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05)
    return round(float(max(fine, key=sharpness)), 2)


def _straight(image: Image.Image, angle: float) -> Image.Image:
    if abs(angle) < 0.05:
        return image
    return image.rotate(-angle, resample=Image.Resampling.BILINEAR, fillcolor=255)


def _ink_float(image: Image.Image, step: int) -> NDArray[np.float32]:
    small = image.reduce(step) if step > 1 else image
    pixels = np.asarray(small, dtype=np.float32)
    return np.clip(1.0 - pixels / max(float(np.percentile(pixels, 90)), 64.0), 0.0, 1.0)


def _correlate(a: NDArray[np.float32], b: NDArray[np.float32]) -> tuple[float, int, int]:
    """Normalised cross-correlation peak of b against a (same shape), and the shift of b."""
    fa, fb = np.fft.rfft2(a - a.mean()), np.fft.rfft2(b - b.mean())
    surface = np.fft.irfft2(fa * np.conj(fb), s=a.shape)
    dy, dx = np.unravel_index(int(np.argmax(surface)), surface.shape)
    norm = float(np.sqrt(np.square(a - a.mean()).sum() * np.square(b - b.mean()).sum())) or 1.0
    dy = dy - a.shape[0] if dy > a.shape[0] // 2 else dy
    dx = dx - a.shape[1] if dx > a.shape[1] // 2 else dx
    return float(surface.max()) / norm, int(dx), int(dy)


def _fit(old: Image.Image, new: Image.Image, scale: float) -> Image.Image:
    """`new` scaled about the page's top left and cut or padded to `old`'s size."""
    size = (max(1, round(new.width * scale)), max(1, round(new.height * scale)))
    scaled = new.resize(size, Image.Resampling.BILINEAR) if scale != 1.0 else new
    canvas = Image.new("L", old.size, 255)
    canvas.paste(scaled, (0, 0))
    return canvas


def align(old: Image.Image, new: Image.Image) -> Aligned:
    """Straighten both pages and fit the new one onto the old (scale, then shift)."""
    old, new = grey(old), grey(new)
    old_skew, new_skew = skew(ink(old)), skew(ink(new))
    old, new = _straight(old, old_skew), _straight(new, new_skew)
    step = 4
    reference = _ink_float(old, step)
    best = (-1.0, 1.0, 0, 0)
    for scale in SCALES:
        score, dx, dy = _correlate(reference, _ink_float(_fit(old, new, scale), step))
        if score > best[0]:
            best = (score, scale, dx, dy)
    score, scale, dx, dy = best
    fitted = _fit(old, new, scale)
    # Refine the shift at full resolution around the coarse one.
    fine_score, fdx, fdy = _correlate(_ink_float(old, 1), _ink_float(fitted, 1))
    if abs(fdx - dx * step) <= 2 * step and abs(fdy - dy * step) <= 2 * step:
        dx, dy, score = fdx, fdy, fine_score
    else:
        dx, dy = dx * step, dy * step
    shifted = Image.new("L", old.size, 255)
    shifted.paste(fitted, (dx, dy))
    # A 1% larger scan shifted 10 pixels has lost 2-3% of the page at its edge: there the old
    # page's ink is not missing from the new, only out of its frame.
    seen = (
        max(0, dx),
        max(0, dy),
        min(old.width, dx + round(new.width * scale)),
        min(old.height, dy + round(new.height * scale)),
    )
    return Aligned(old, shifted, old_skew, new_skew, scale, (dx, dy), round(score, 4), seen)


def changed_regions(aligned: Aligned) -> list[Region]:
    """The places where the fitted pages really differ, each named (see the module)."""
    old_ink, new_ink = ink(aligned.old), ink(aligned.new)
    # Ink counts as missing on the other side only where that side is clearly paper: a light
    # pen stroke read as ink on one scan and just above the threshold on the other is the same.
    faint = (ink(aligned.old, FAINT), ink(aligned.new, FAINT))
    only_old, only_new = _differences((old_ink, new_ink), faint)
    x0, y0, x1, y1 = aligned.seen
    margin = 2 * TOLERANCE + LOCAL_SHIFT
    for mask in (only_old, only_new):
        mask[: y0 + margin], mask[max(0, y1 - margin) :] = False, False
        mask[:, : x0 + margin], mask[:, max(0, x1 - margin) :] = False, False
    # A box's thin outline blurs to grey: found with a lighter threshold than type.
    ruled = (ink(aligned.old, LINE_INK), ink(aligned.new, LINE_INK))
    gathered = ndimage.binary_dilation(
        only_old | only_new, np.ones((GATHER[1], GATHER[0]), dtype=bool)
    )
    labels, _ = ndimage.label(gathered)
    regions = []
    for found in ndimage.find_objects(labels):
        if found is None:
            continue
        region = _region(found, (old_ink, new_ink), (only_old, only_new), ruled)
        if region is not None:
            regions.append(region)
    return sorted(regions, key=lambda r: (round(r.box[1], 2), r.box[0]))


def _differences(
    inks: tuple[NDArray[np.bool_], NDArray[np.bool_]],
    faint: tuple[NDArray[np.bool_], NDArray[np.bool_]],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Ink only the old side has and ink only the new side has, each tile of the page shifted
    by the few pixels that fit it best: a page fitted as a whole is still 2-4 pixels out at its
    far corners after a rescan (paper stretch, a skew read to 0.05 degrees)."""
    (old_ink, new_ink), (old_faint, new_faint) = inks, faint
    reach = np.ones((2 * TOLERANCE + 1, 2 * TOLERANCE + 1), dtype=bool)
    old_near = ndimage.binary_dilation(old_faint, reach)
    r = LOCAL_SHIFT
    new_pad = np.pad(new_ink, r)
    new_near_pad = ndimage.binary_dilation(np.pad(new_faint, r), reach)
    height, width = old_ink.shape

    def compare(y0: int, x0: int, dy: int, dx: int) -> tuple[Any, Any]:
        y1, x1 = min(y0 + TILE, height), min(x0 + TILE, width)
        ys, xs = slice(y0 + r + dy, y1 + r + dy), slice(x0 + r + dx, x1 + r + dx)
        lost = old_ink[y0:y1, x0:x1] & ~new_near_pad[ys, xs]
        gained = new_pad[ys, xs] & ~old_near[y0:y1, x0:x1]
        return lost, gained

    shifts = _tile_shifts(old_ink, new_pad, height, width)
    only_old, only_new = np.zeros_like(old_ink), np.zeros_like(new_ink)
    for i, j in np.ndindex(*shifts.shape[:2]):
        y0, x0 = i * TILE, j * TILE
        lost, gained = compare(y0, x0, int(shifts[i, j, 0]), int(shifts[i, j, 1]))
        only_old[y0 : y0 + TILE, x0 : x0 + TILE] = lost
        only_new[y0 : y0 + TILE, x0 : x0 + TILE] = gained
    # Scanner edges and the fill of a turned page are not changes.
    edge_y, edge_x = round(height * EDGE), round(width * EDGE)
    for mask in (only_old, only_new):
        mask[:edge_y], mask[height - edge_y :] = False, False
        mask[:, :edge_x], mask[:, width - edge_x :] = False, False
    return only_old, only_new


def _tile_shifts(
    old_ink: NDArray[np.bool_], new_pad: NDArray[np.bool_], height: int, width: int
) -> NDArray[np.int64]:
    """Each tile's (dy, dx): the shift at which the most of its ink lies on the other side's.
    Fewest changed pixels was the first measure: within the 2-pixel tolerance a shift costs
    unchanged type almost nothing, so a tile with a lifted box was dragged onto the box's
    line and the box went unseen."""
    r = LOCAL_SHIFT
    rows, cols = -(-height // TILE), -(-width // TILE)
    best = np.zeros((rows, cols, 2), dtype=np.int64)
    for i, j in np.ndindex(rows, cols):
        y0, x0 = i * TILE, j * TILE
        y1, x1 = min(y0 + TILE, height), min(x0 + TILE, width)
        tile = old_ink[y0:y1, x0:x1]
        if not tile.any():
            continue
        overlap = {
            (dy, dx): int(
                (tile & new_pad[y0 + r + dy : y1 + r + dy, x0 + r + dx : x1 + r + dx]).sum()
            )
            for dy in range(-r, r + 1)
            for dx in range(-r, r + 1)
        }
        best[i, j] = max(overlap, key=lambda s: (overlap[s], -abs(s[0]) - abs(s[1])))
    return best


def _region(
    where: tuple[slice, slice],
    inks: tuple[NDArray[np.bool_], NDArray[np.bool_]],
    only: tuple[NDArray[np.bool_], NDArray[np.bool_]],
    ruled: tuple[NDArray[np.bool_], NDArray[np.bool_]],
) -> Region | None:
    (old_ink, new_ink), (only_old, only_new) = inks, only
    lost_real = _real(only_old[where], old_ink[where])
    gained_real = _real(only_new[where], new_ink[where])
    if not (lost_real or gained_real):
        return None
    old_side = _side(old_ink, only_old, ruled[0], where) if lost_real else _plain(old_ink, where)
    new_side = _side(new_ink, only_new, ruled[1], where) if gained_real else _plain(new_ink, where)
    ys, xs = where
    height, width = old_ink.shape
    box = _fraction((xs.start, ys.start, xs.stop, ys.stop), width, height)
    changed = int(only_old[where].sum()) + int(only_new[where].sum())
    region = Region(_kind(old_side, new_side, box), box, old_side, new_side, changed)
    region.new_ink = _extent(only_new, where) if gained_real else None
    region.old_ink = _extent(only_old, where) if lost_real else None
    return region


def _fraction(
    box: tuple[int, int, int, int], width: int, height: int
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    return (
        round(x0 / width, 4),
        round(y0 / height, 4),
        round(x1 / width, 4),
        round(y1 / height, 4),
    )


def _extent(
    changed: NDArray[np.bool_], where: tuple[slice, slice]
) -> tuple[float, float, float, float]:
    """The bounds of a region's changed ink, as fractions of the page."""
    ys, xs = np.nonzero(changed[where])
    top, left = where[0].start + int(ys.min()), where[1].start + int(xs.min())
    bottom, right = where[0].start + int(ys.max()) + 1, where[1].start + int(xs.max()) + 1
    height, width = changed.shape
    return _fraction((left, top, right, bottom), width, height)


def _real(changed: NDArray[np.bool_], mask: NDArray[np.bool_]) -> bool:
    """Enough changed ink, and most of the ink around it: a misread stroke's edge is a thin
    share of its stroke, a new word or a box's outline all of its own."""
    count = int(changed.sum())
    if count < MIN_CHANGED:
        return False
    near = ndimage.binary_dilation(changed, np.ones((7, 7), dtype=bool))
    if count >= MIN_SHARE * int((mask & near).sum()):
        return True
    # A box drawn over text: only its pixels away from the text it covers changed.
    ys, xs = np.nonzero(changed)
    spanned = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    tall, wide = spanned.shape
    return tall >= 8 and wide >= 20 and float(spanned.mean()) >= FILLED


def _plain(mask: NDArray[np.bool_], where: tuple[slice, slice]) -> str:
    """An unchanged side: blank, or text (what it shows is the same on both sides)."""
    return "blank" if float(mask[where].mean()) < BLANK else "text"


def _side(
    mask: NDArray[np.bool_],
    changed: NDArray[np.bool_],
    ruled: NDArray[np.bool_],
    where: tuple[slice, slice],
) -> str:
    """What a side's changed ink is: a solid box, an outlined box, or text."""
    ys, xs = np.nonzero(changed[where])
    top, left = where[0].start + ys.min(), where[1].start + xs.min()
    bottom, right = where[0].start + ys.max() + 1, where[1].start + xs.max() + 1
    own = mask[top:bottom, left:right]
    tall, wide = own.shape
    if tall < 8 or wide < 20:
        return "text"
    if float(own.mean()) >= SOLID:
        return "box"
    # An outline's lines are looked for over the whole region's height, across the changed
    # ink's width: where a line of type runs close under a box, the box's bottom line is
    # within reach of the other side's type and only its ends count as changed.
    rows = slice(where[0].start, where[0].stop)
    cols = slice(max(0, left - 10), right + 10)
    return "box" if _outlined(mask[rows, cols], ruled[rows, cols], changed[rows, cols]) else "text"


def _outlined(own: NDArray[np.bool_], lines: NDArray[np.bool_], changed: NDArray[np.bool_]) -> bool:
    """A thin rectangle, blank inside, that the other side lacks: an outlined (white) redaction
    box. `lines` is the side's ink at the lighter threshold of lines, `own` at that of type,
    `changed` what the other side lacks. Any two runs of ruled rows (an underline or a
    neighbouring box's edge may be among them) may be its top and bottom."""
    ruled_rows = np.nonzero(lines.mean(axis=1) >= RULED)[0]
    if len(ruled_rows) < 2:
        return False
    groups = np.split(ruled_rows, np.nonzero(np.diff(ruled_rows) > 1)[0] + 1)
    # A box's line is a few pixels thick; a line of type at the lighter threshold is 6 or more.
    groups = [group for group in groups if len(group) <= MAX_LINE]
    for i, upper in enumerate(groups):
        for lower in groups[i + 1 :]:
            top, bottom = int(upper[0]), int(lower[-1]) + 1
            sides = _box_between(own, lines, top, bottom) if bottom - top >= 10 else None
            if sides is None:
                continue
            # One of its sides must be new: an underline below a box both sides have is no
            # box of this side's (and a new box's top may be an old box's bottom).
            left, right = sides
            drawn = (  # the best row of each long side: a line blurs over 2-4 rows
                changed[upper, left:right].mean(axis=1).max(),
                changed[lower, left:right].mean(axis=1).max(),
                changed[top:bottom, left : left + 3].mean(),
                changed[top:bottom, right - 3 : right].mean(),
            )
            if max(drawn) >= RULED / 2:
                return True
    return False


def _box_between(
    own: NDArray[np.bool_], lines: NDArray[np.bool_], top: int, bottom: int
) -> tuple[int, int] | None:
    """The left and right of ruled sides from `top` to `bottom` with nothing much inside."""
    cols = np.nonzero(lines[top:bottom].mean(axis=0) >= RULED)[0]
    if len(cols) < 2 or cols[-1] - cols[0] < 20:
        return None
    left, right = int(cols[0]), int(cols[-1]) + 1
    inside = own[top + 3 : bottom - 3, left + 3 : right - 3]
    return (left, right) if inside.size == 0 or inside.mean() < BLANK_INSIDE else None


def _kind(old: str, new: str, box: tuple[float, float, float, float]) -> RegionKind:
    if old == "box" and new != "box":
        return "box_lifted"
    if new == "box" and old != "box":
        return "box_added"
    in_margin = box[3] <= MARGIN or box[1] >= 1 - MARGIN or box[0] >= 1 - SIDE_MARGIN
    if in_margin or old == new:
        return "marking"
    if old == "blank":
        return "released"
    if new == "blank":
        return "withheld"
    return "marking"


def crop(image: Image.Image, box: tuple[float, float, float, float], pad: int = 12) -> Image.Image:
    """The region of a page image with a margin, for reading and for showing side by side."""
    left = max(0, int(box[0] * image.width) - pad)
    top = max(0, int(box[1] * image.height) - pad)
    right = min(image.width, math.ceil(box[2] * image.width) + pad)
    bottom = min(image.height, math.ceil(box[3] * image.height) + pad)
    return image.crop((left, top, right, bottom))
