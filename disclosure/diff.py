"""Compare two releases of the same records: what did the agency stop disclosing?

Works from the catalog alone (no OCR, no originals reopened) and is deterministic. Documents
are matched across releases whatever their file names, Bates prefixes or page order:
identical files by hash; re-processed documents by their pages' text (MinHash candidates,
then exact shingle overlap, see disclosure.similarity), so the cost grows with the pages, not with
their pairs; tables by their header. Within a matched document pages are paired by text, and
a page with no text of its own (a "withheld in full" sheet) takes the place of the unmatched
page between the same neighbours. Each pair is compared for redaction boxes and area,
exemption codes and the passages of text one side has and the other lacks.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from foiarchive.disclosure.directions import direction_sentences
from foiarchive.disclosure.leaks import LeakChange, leak_changes
from foiarchive.disclosure.page_images import (
    PixelCompare,
    PixelResult,
    RegionChange,
    compare_pages,
    is_scan,
    within_bounds,
)
from foiarchive.disclosure.similarity import ShingledPage, best_pairs, candidate_pairs, similarity
from foiarchive.disclosure.tables import TableChange, compare_tables
from foiarchive.disclosure.tally import Tally
from foiarchive.index.analysis import Token, tokenize
from foiarchive.index.catalog import Catalog, CatalogError
from foiarchive.schemas import Document, Page, find_bates
from foiarchive.schemas.exemptions import exemption_label

#: Two pages are the same page re-released when this much of the shorter one's text is shared.
PAGE_MATCH = 0.5
#: Two tables are the same table when this share of their column names is shared.
HEADER_MATCH = 0.5
#: Shorter runs of changed words are OCR noise or stamps, not passages.
MIN_PASSAGE_WORDS = 3
#: Pairs of pages compared exactly within one matched document before relying on MinHash.
EXHAUSTIVE_PAIRS = 40_000


@dataclass
class Release:
    """How much one release disclosed."""

    production: str
    release_date: str = ""
    documents: int = 0
    pages: int = 0
    words: int = 0
    pages_with_redactions: int = 0
    redaction_boxes: int = 0
    redacted_area: float = 0.0  # pages' worth of area under boxes
    withheld_in_full: int = 0
    uncertain_boxes: int = 0  # found in images with nothing to back them: not counted above
    pages_with_uncertain_boxes: int = 0
    exemptions: dict[str, int] = field(default_factory=dict)  # pages citing each code
    exemption_cells: dict[str, int] = field(default_factory=dict)  # table cells citing each

    @property
    def redacted_share(self) -> float:
        return round(self.redacted_area / self.pages, 4) if self.pages else 0.0


@dataclass
class Passage:
    page: int
    words: int
    text: str


@dataclass
class PageChange:
    old_page: int | None
    new_page: int | None
    old_bates: str = ""
    new_bates: str = ""
    old_boxes: int = 0
    new_boxes: int = 0
    old_area: float = 0.0
    new_area: float = 0.0
    exemptions_gained: list[str] = field(default_factory=list)
    exemptions_dropped: list[str] = field(default_factory=list)
    old_withheld: bool = False
    new_withheld: bool = False
    removed: list[Passage] = field(default_factory=list)  # text in the old page only
    added: list[Passage] = field(default_factory=list)  # text in the new page only
    leaks_added: list[LeakChange] = field(default_factory=list)  # found on the new page only
    leaks_fixed: list[LeakChange] = field(default_factory=list)  # found on the old page only
    #: "pixels": a scan on either side, compared by its images (regions); "text": by words.
    compared_by: Literal["text", "pixels"] = "text"
    regions: list[RegionChange] = field(default_factory=list)
    pixel_seconds: float = 0.0  # time the image comparison of this pair took

    @property
    def boxes_added(self) -> int:
        return sum(r.kind == "box_added" for r in self.regions)

    @property
    def boxes_lifted(self) -> int:
        return sum(r.kind == "box_lifted" for r in self.regions)

    @property
    def markings(self) -> int:
        return sum(r.kind == "marking" for r in self.regions)


@dataclass
class DocumentRef:
    document: str
    path: str
    pages: int
    redacted_share: float


@dataclass
class DocumentChange:
    kind: Literal["identical", "reprocessed", "table"]
    old: DocumentRef
    new: DocumentRef
    similarity: float
    pages_removed: list[int] = field(default_factory=list)  # old page numbers
    pages_added: list[int] = field(default_factory=list)  # new page numbers
    reordered: bool = False
    pages: list[PageChange] = field(default_factory=list)  # only pages that changed
    table: TableChange | None = None

    @property
    def words_removed(self) -> int:
        return sum(p.words for change in self.pages for p in change.removed)

    @property
    def words_added(self) -> int:
        return sum(p.words for change in self.pages for p in change.added)

    @property
    def changed(self) -> bool:
        return bool(
            self.pages_removed
            or self.pages_added
            or self.reordered
            or self.pages
            or (self.table and any(c.verdict for c in self.table.columns))
            or (self.table and self.table.other_sheets)
        )


@dataclass
class Diff:
    old: Release
    new: Release
    matched: list[DocumentChange]
    only_old: list[DocumentRef]
    only_new: list[DocumentRef]

    def largest_redaction_changes(self, count: int) -> list[DocumentChange]:
        """Matched documents, those whose redacted share moved most first: what a chart of
        old against new shows when it cannot show them all."""
        return sorted(
            self.matched,
            key=lambda c: (-abs(c.new.redacted_share - c.old.redacted_share), c.new.path),
        )[:count]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["old"]["redacted_share"] = self.old.redacted_share
        data["new"]["redacted_share"] = self.new.redacted_share
        for out, change in zip(data["matched"], self.matched, strict=True):
            out["words_removed"], out["words_added"] = change.words_removed, change.words_added
            for page in out["pages"]:
                for region in page["regions"]:
                    del region["old_crop"], region["new_crop"]  # images: HTML only
            out["changed"] = change.changed
            if change.table is not None:
                out["table"] = change.table.to_dict()
        data["summary"] = summarize(self)
        return data


_Loaded = tuple[Document, list[Page]]


def diff_productions(
    catalog: Catalog, old_id: str, new_id: str, pixels: PixelCompare | None = None
) -> Diff:
    """The changes from release `old_id` to release `new_id`; raises CatalogError if unknown.

    With `pixels`, matched pages that are scans on either side are compared by their images
    (disclosure.page_images): what a reader sees change, not what two OCR reads disagree on.
    """
    old_docs, old_release = _load(catalog, old_id)
    new_docs, new_release = _load(catalog, new_id)
    shingler = _Shingler()
    pairs, only_old, only_new = _match_documents(old_docs, new_docs, shingler)
    matched = [
        _compare(
            old_docs[o],
            new_docs[n],
            kind,
            score,
            (shingler.of("old", o), shingler.of("new", n)),
            _by_pixels(pixels, old_docs[o][0], new_docs[n][0]),
        )
        for kind, score, o, n in pairs
    ]
    matched.sort(key=lambda c: (c.old.path, c.new.path))
    return Diff(
        old_release,
        new_release,
        matched,
        sorted((_ref(*old_docs[i]) for i in only_old), key=lambda r: r.path),
        sorted((_ref(*new_docs[i]) for i in only_new), key=lambda r: r.path),
    )


def _load(catalog: Catalog, production_id: str) -> tuple[list[_Loaded], Release]:
    production = catalog.production(production_id)
    if production is None:
        raise CatalogError(f"no production {production_id!r}; see 'foiarchive productions'")
    release = Release(production.id, production.release_date)
    tally = Tally()
    loaded = []
    documents = catalog.documents(production_id)
    holders = {d.parent for d in documents if d.parent}
    for document in documents:
        if document.status != "ok":
            continue
        pages = catalog.pages(document.id)
        if document.id in holders and not pages:
            continue  # a ZIP or a merged PDF is compared through what it holds
        loaded.append((document, pages))
        release.documents += 1
        for page in pages:
            tally.add(page, document.columns)
    release.pages, release.words = tally.pages, tally.words
    release.pages_with_redactions = tally.pages_with_redactions
    release.redaction_boxes = tally.redaction_boxes
    release.redacted_area = round(tally.redacted_area, 3)
    release.withheld_in_full = tally.withheld_in_full
    release.uncertain_boxes = tally.uncertain_boxes
    release.pages_with_uncertain_boxes = tally.pages_with_uncertain_boxes
    release.exemptions = dict(sorted(tally.exemptions.items()))
    release.exemption_cells = dict(sorted(tally.exemption_cells.items()))
    return loaded, release


def _ref(document: Document, pages: list[Page]) -> DocumentRef:
    tally = Tally()
    for page in pages:
        tally.add(page)
    return DocumentRef(document.id, document.path, len(pages), tally.redacted_share)


# -- matching documents ---------------------------------------------------------------------
class _Shingler:
    """Shingles each page once, whichever step needs it first."""

    def __init__(self) -> None:
        self.term_hashes: dict[str, int] = {}
        self.cache: dict[tuple[str, int, int], ShingledPage] = {}

    def of(self, side: str, document: int) -> Callable[[Page], ShingledPage]:
        def shingled(page: Page) -> ShingledPage:
            key = (side, document, page.number)
            found = self.cache.get(key)
            if found is None:
                found = self.cache[key] = ShingledPage(page.text, self.term_hashes)
            return found

        return shingled


def _match_documents(
    old: list[_Loaded], new: list[_Loaded], shingler: _Shingler
) -> tuple[list[tuple[str, float, int, int]], list[int], list[int]]:
    pairs: list[tuple[str, float, int, int]] = []
    free_old, free_new = set(range(len(old))), set(range(len(new)))

    def take(kind: str, score: float, o: int, n: int) -> None:
        pairs.append((kind, score, o, n))
        free_old.discard(o)
        free_new.discard(n)

    # 1. the same file: same hash (the same path first, if a file was released twice)
    by_hash: dict[str, list[int]] = defaultdict(list)
    for i, (document, _) in enumerate(old):
        by_hash[document.sha256].append(i)
    for n, (document, _) in enumerate(new):
        olds = [o for o in by_hash.get(document.sha256, []) if o in free_old]
        if olds:
            same_path = [o for o in olds if old[o][0].path == document.path]
            take("identical", 1.0, (same_path or olds)[0], n)
    # 2. the same text, re-processed: pages matched one to one, documents by their pages' votes
    votes: defaultdict[tuple[int, int], float] = defaultdict(float)
    for score, (o, _), (n, _) in _page_pairs(old, new, free_old, free_new, shingler):
        votes[(o, n)] += score
    for score, o, n in best_pairs(((s, o, n) for (o, n), s in votes.items()), PAGE_MATCH):
        kind = "table" if old[o][0].columns and new[n][0].columns else "reprocessed"
        pages = max(len(old[o][1]), len(new[n][1]), 1)
        take(kind, round(min(1.0, score / pages), 4), o, n)
    # 3. tables of another year: the same header
    header_scores = []
    for o in free_old:
        for n in free_new:
            a, b = _header(old[o][0]), _header(new[n][0])
            if a and b:
                header_scores.append((len(a & b) / len(a | b), o, n))
    for score, o, n in best_pairs(header_scores, HEADER_MATCH):
        take("table", round(score, 4), o, n)
    # 4. nothing to compare by (no text, no header): the same path
    old_paths = {old[o][0].path: o for o in sorted(free_old)}
    for n in sorted(free_new):
        same = old_paths.get(new[n][0].path)
        if same is not None and same in free_old:
            take("reprocessed", 0.0, same, n)
    return pairs, sorted(free_old), sorted(free_new)


def _header(document: Document) -> frozenset[str]:
    return frozenset(" ".join(c.lower().replace("_", " ").split()) for c in document.columns)


def _page_pairs(
    old: list[_Loaded],
    new: list[_Loaded],
    free_old: set[int],
    free_new: set[int],
    shingler: _Shingler,
) -> list[tuple[float, tuple[int, int], tuple[int, int]]]:
    """One-to-one page matches between the unmatched documents of the two releases."""
    shingled_old = _shingled(old, free_old, "old", shingler)
    shingled_new = _shingled(new, free_new, "new", shingler)
    lookup_old, lookup_new = dict(shingled_old), dict(shingled_new)
    scored = (
        (similarity(lookup_old[a], lookup_new[b]), a, b)
        for a, b in candidate_pairs(shingled_old, shingled_new)
    )
    return best_pairs(scored, PAGE_MATCH)


def _shingled(
    documents: list[_Loaded], which: set[int], side: str, shingler: _Shingler
) -> list[tuple[tuple[int, int], ShingledPage]]:
    return [
        ((i, page.number), shingler.of(side, i)(page))
        for i in sorted(which)
        for page in documents[i][1]
        if page.text.strip()
    ]


# -- comparing one matched document ---------------------------------------------------------
_PagePixels = Callable[[Page, Page], PixelResult | None]


def _by_pixels(pixels: PixelCompare | None, old: Document, new: Document) -> _PagePixels:
    """The image comparison of a page pair, where either is a scan and both have an image."""

    def compare(old_page: Page, new_page: Page) -> PixelResult | None:
        if pixels is None or not (is_scan(old_page) or is_scan(new_page)):
            return None
        if pixels.cache is None:
            return _fresh(pixels, (old, old_page), (new, new_page))
        key = pixels.cache.key(old, old_page, new, new_page)
        if key in pixels.cache:
            return pixels.cache.get(key)
        result = _fresh(pixels, (old, old_page), (new, new_page))
        pixels.cache.put(key, result)
        return result

    return compare


def _fresh(
    pixels: PixelCompare, old: tuple[Document, Page], new: tuple[Document, Page]
) -> PixelResult | None:
    # Known sizes out of bounds are not even rendered.
    if not all(within_bounds(page.width, page.height) for _, page in (old, new)):
        return None
    old_image = pixels.images(old[0], old[1].number)
    new_image = pixels.images(new[0], new[1].number)
    if old_image is None or new_image is None:
        return None
    return compare_pages(old_image, new_image, pixels.read)


def _compare(
    old: _Loaded,
    new: _Loaded,
    kind: str,
    score: float,
    shinglers: tuple[Callable[[Page], ShingledPage], Callable[[Page], ShingledPage]],
    page_pixels: _PagePixels,
) -> DocumentChange:
    change = DocumentChange(kind, _ref(*old), _ref(*new), score)  # type: ignore[arg-type]
    (old_doc, old_pages), (new_doc, new_pages) = old, new
    if kind == "identical":
        return change
    if old_doc.columns or new_doc.columns:
        change.table = compare_tables(old_pages, old_doc.columns, new_pages, new_doc.columns)
        if kind == "table":
            return change
    pairs = _align_pages(old_pages, new_pages, *shinglers)
    paired_old = {o for o, _ in pairs}
    paired_new = {n for _, n in pairs}
    change.pages_removed = [p.number for p in old_pages if p.number not in paired_old]
    change.pages_added = [p.number for p in new_pages if p.number not in paired_new]
    in_new_order = [o for o, _ in sorted(pairs, key=lambda pair: pair[1])]
    change.reordered = in_new_order != sorted(in_new_order)
    old_by_number = {p.number: p for p in old_pages}
    new_by_number = {p.number: p for p in new_pages}
    for o, n in sorted(pairs, key=lambda pair: pair[1]):
        old_page, new_page = old_by_number[o], new_by_number[n]
        page_change = _compare_pages(old_page, new_page, page_pixels(old_page, new_page))
        if page_change is not None:
            change.pages.append(page_change)
    return change


def _align_pages(
    old: list[Page],
    new: list[Page],
    shingle_old: Callable[[Page], ShingledPage],
    shingle_new: Callable[[Page], ShingledPage],
) -> list[tuple[int, int]]:
    """(old number, new number) pairs: the same text, similar text, then by position."""
    same_text: dict[str, list[int]] = defaultdict(list)
    for page in old:
        if page.text.strip():
            same_text[page.text].append(page.number)
    pairs: dict[int, int] = {}
    for page in new:
        if same_text.get(page.text):
            pairs[page.number] = same_text[page.text].pop(0)
    used = set(pairs.values())
    a = [(p.number, shingle_old(p)) for p in old if p.text.strip() and p.number not in used]
    b = [(p.number, shingle_new(p)) for p in new if p.text.strip() and p.number not in pairs]
    if len(a) * len(b) <= EXHAUSTIVE_PAIRS:
        candidates = {(x, y) for x, _ in a for y, _ in b}
    else:
        candidates = candidate_pairs(a, b)
    lookup_a, lookup_b = dict(a), dict(b)
    scored = [(similarity(lookup_a[x], lookup_b[y]), x, y) for x, y in candidates]
    pairs.update((n, o) for _, o, n in best_pairs(scored, PAGE_MATCH))
    # Unpaired new pages take an unpaired old page lying between the same paired neighbours.
    used_old = set(pairs.values())
    new_numbers = [p.number for p in new]
    old_numbers = [p.number for p in old]
    for position, n in enumerate(new_numbers):
        if n in pairs:
            continue
        before = next((pairs[m] for m in reversed(new_numbers[:position]) if m in pairs), 0)
        after = next((pairs[m] for m in new_numbers[position + 1 :] if m in pairs), None)
        gap = [
            o
            for o in old_numbers
            if o not in used_old and o > before and (after is None or o < after)
        ]
        if gap:
            pairs[n] = gap[0]
            used_old.add(gap[0])
    return sorted((o, n) for n, o in pairs.items())


def _compare_pages(old: Page, new: Page, by_pixels: PixelResult | None) -> PageChange | None:
    change = PageChange(
        old.number,
        new.number,
        old.bates[0] if old.bates else "",
        new.bates[0] if new.bates else "",
        len(old.redactions),
        len(new.redactions),
        old.redacted_area(),
        new.redacted_area(),
        sorted(set(new.exemptions) - set(old.exemptions)),
        sorted(set(old.exemptions) - set(new.exemptions)),
        old.withheld_in_full,
        new.withheld_in_full,
    )
    if by_pixels is not None:
        _from_pixels(change, by_pixels)
    elif old.text != new.text:
        change.removed, change.added = _passages(old, new)
    if old.leaks or new.leaks:
        change.leaks_added, change.leaks_fixed = leak_changes(old, new)
    boxes_moved = (
        change.old_boxes != change.new_boxes or abs(change.old_area - change.new_area) > 0.001
    )
    differs = (
        (boxes_moved if by_pixels is None else change.regions)
        or change.exemptions_gained
        or change.exemptions_dropped
        or change.old_withheld != change.new_withheld
        or change.removed
        or change.added
        or change.leaks_added
        or change.leaks_fixed
    )
    return change if differs else None


def _from_pixels(change: PageChange, result: PixelResult) -> None:
    """Passages from the regions whose pixels changed: the OCR text of the rest of the page,
    however differently read on the two sides, is the same text. So are the exemption codes
    read from it when nothing changed: on a real 35-page pair, one OCR read 'b6' and 'b7C'
    beside boxes where the other read nothing."""
    change.compared_by, change.regions = "pixels", result.regions
    change.pixel_seconds = result.seconds
    if not result.regions:
        change.exemptions_gained, change.exemptions_dropped = [], []
    for region in result.regions:
        if region.direction == "released":
            change.added.append(Passage(change.new_page or 0, region.words, region.text))
        elif region.direction == "withheld":
            change.removed.append(Passage(change.old_page or 0, region.words, region.text))


def _passages(old: Page, new: Page) -> tuple[list[Passage], list[Passage]]:
    """Runs of words one page has and the other lacks (stamps and short OCR slips left out)."""
    a, b = _words(old), _words(new)
    matcher = difflib.SequenceMatcher(None, [t.term for t in a], [t.term for t in b], False)
    # Changed runs separated by a word or two in common ("in", "the") are one change.
    regions: list[list[int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if regions and i1 - regions[-1][1] < MIN_PASSAGE_WORDS:
            regions[-1][1], regions[-1][3] = i2, j2
        else:
            regions.append([i1, i2, j1, j2])
    removed, added = [], []
    for i1, i2, j1, j2 in regions:
        removed += _passage(old, a[i1:i2]) if i2 > i1 else []
        added += _passage(new, b[j1:j2]) if j2 > j1 else []
    return removed, added


def _words(page: Page) -> list[Token]:
    """The page's tokens without its Bates stamps: a new stamp is not new text."""
    stamps = []
    for stamp in {b.text for b in find_bates(page.text)}:
        start = page.text.find(stamp)
        while start != -1:
            stamps.append((start, start + len(stamp)))
            start = page.text.find(stamp, start + 1)
    tokens = tokenize(page.text)
    if not stamps:
        return tokens
    return [t for t in tokens if not any(s <= t.start < e for s, e in stamps)]


def _passage(page: Page, tokens: list[Token]) -> list[Passage]:
    if sum(not t.term.isdigit() for t in tokens) < MIN_PASSAGE_WORDS:
        return []
    start, end = tokens[0].start, tokens[-1].end
    while start > 0 and _is_punctuation(page.text[start - 1]):
        start -= 1  # keep an opening quote or parenthesis
    while end < len(page.text) and _is_punctuation(page.text[end]):
        end += 1  # and the closing punctuation, for quoting
    return [Passage(page.number, len(tokens), " ".join(page.text[start:end].split()))]


def _is_punctuation(character: str) -> bool:
    return not character.isspace() and not character.isalnum()


# -- plain words ----------------------------------------------------------------------------
def percent(share: float) -> str:
    """0.1234 -> '12.3%': how every diff and report shows a share."""
    return f"{share * 100:.1f}%"


def _was(new: int, old: int) -> str:
    return f"{new:,} (was {old:,})"


def summarize(diff: Diff) -> list[str]:
    """The changes in sentences a journalist can quote, largest first."""
    old, new = diff.old, diff.new
    o_name = f"{old.production}" + (f" ({old.release_date})" if old.release_date else "")
    n_name = f"{new.production}" + (f" ({new.release_date})" if new.release_date else "")
    lines = [
        f"{n_name} released {new.pages:,} pages ({new.words:,} words) in {new.documents:,} "
        f"documents; {o_name} released {old.pages:,} pages ({old.words:,} words) in "
        f"{old.documents:,} documents.",
        f"Redaction boxes cover {percent(new.redacted_share)} of the page area in "
        f"{new.production}, against {percent(old.redacted_share)} in {old.production}; "
        f"pages with redactions: {_was(new.pages_with_redactions, old.pages_with_redactions)}.",
        f"Pages withheld in full: {_was(new.withheld_in_full, old.withheld_in_full)}.",
    ]
    if old.uncertain_boxes or new.uncertain_boxes:
        lines.append(
            f"Not counted above, as uncertain (boxes found in page images with no exemption "
            f"code beside them or on their page): {new.uncertain_boxes:,} on "
            f"{new.pages_with_uncertain_boxes:,} pages in {new.production}, "
            f"{old.uncertain_boxes:,} on {old.pages_with_uncertain_boxes:,} in {old.production}."
        )
    codes = set(old.exemptions) | set(new.exemptions)
    moves = sorted(
        codes,
        key=lambda c: (-abs(new.exemptions.get(c, 0) - old.exemptions.get(c, 0)), c),
    )
    for code in moves[:6]:
        before, after = old.exemptions.get(code, 0), new.exemptions.get(code, 0)
        if before != after:
            pages = "page" if after == 1 else "pages"
            lines.append(
                f"Exemption {exemption_label(code)}: cited on {after:,} {pages} (was {before:,})."
            )
    cell_codes = set(old.exemption_cells) | set(new.exemption_cells)
    for code in sorted(cell_codes):
        before, after = old.exemption_cells.get(code, 0), new.exemption_cells.get(code, 0)
        if before != after:
            lines.append(
                f"Exemption {exemption_label(code)}: cited in {after:,} table cells "
                f"(was {before:,})."
            )
    identical = sum(c.kind == "identical" for c in diff.matched)
    changed = [c for c in diff.matched if c.changed]
    lines.append(
        f"{len(diff.matched):,} documents appear in both releases ({identical:,} identical, "
        f"{len(changed):,} changed); {len(diff.only_old):,} only in {old.production}, "
        f"{len(diff.only_new):,} only in {new.production}."
    )
    lines += direction_sentences(diff)
    lines += _leak_sentences(diff)
    for change in diff.matched:
        if change.table is None:
            continue
        for column in change.table.columns:
            if column.verdict:
                lines.append(_column_sentence(change, column, old.production, new.production))
        if change.table.old_rows != change.table.new_rows:
            lines.append(
                f"{change.new.path}: {change.table.new_rows:,} rows "
                f"(was {change.table.old_rows:,} in {change.old.path})."
            )
        if change.table.other_sheets:
            lines.append(
                f"{change.new.path}: sheets not compared: {', '.join(change.table.other_sheets)}."
            )
    return lines


#: Leaks named one by one in the summary; the rest are counted (every one is in the pages).
LEAKS_NAMED = 5


def _leak_sentences(diff: Diff) -> list[str]:
    """New leaks (those giving away what the old release withheld named first) and fixed ones."""
    old, new = diff.old.production, diff.new.production
    added = [
        (change, page, leak)
        for change in diff.matched
        for page in change.pages
        for leak in page.leaks_added
    ]
    fixed = sum(len(page.leaks_fixed) for change in diff.matched for page in change.pages)
    lines = []
    if added:
        given_away = [item for item in added if item[2].withheld_before]
        lines.append(
            f"{len(added):,} leaks in {new} that {old} did not have; {len(given_away):,} of them "
            f"carry text {old} withheld."
        )
        for change, page, leak in given_away[:LEAKS_NAMED]:
            lines.append(
                f"{change.new.path} p. {page.new_page}: {new} still carries '{leak.text}' "
                f"({leak.kind}), which {old} withheld."
            )
    if fixed:
        lines.append(f"{fixed:,} leaks of {old} are gone from {new} (fixed).")
    return lines


def _column_sentence(change: DocumentChange, column: Any, old: str, new: str) -> str:
    where = f"{change.new.path}: column '{column.name}'"
    if column.verdict == "dropped":
        return f"{where} was in {old} and is gone from {new}."
    if column.verdict == "added":
        return f"{where} is new in {new}."
    return (
        f"{where} was filled in {percent(column.old_filled)} of rows in {old} and "
        f"{percent(column.new_filled)} in {new} ({percent(column.new_withheld)} exemption "
        f"codes or 'withheld', {percent(column.new_blank)} blank): {column.verdict}."
    )
