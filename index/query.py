"""The query language: Lucene-like syntax parsed once into a small typed AST.

`parse` turns what a researcher typed into nodes that each backend compiles on its own
(Tantivy `Query` objects, an Elasticsearch bool query). The user's text never reaches a
backend's own parser, so the two engines see exactly the same question.

Grammar (the luqum library parses the Lucene syntax):
    deportation "secure communities"     terms and phrases, AND by default
    a OR b, NOT c, -c, +d, ( ... )       boolean logic
    deport*                              prefix
    "secure communities"~5               proximity (words within 5 positions)
    agency:ICE production:ice-2017-r1 document:ID exemption:b6 bates:ICE-000120
    source:ocr type:pdf title:memo redacted:true withheld:false leak:true leak:under_shape
    released:[2017-01-01 TO 2017-06-30]  released:>=2017  released:2017-06
    from:smith to:ice.dhs.gov subject:detainer sent:2017-03   (emails)
    tag:timeline note:"ask the agency" starred:true read:false   (the team's workspace)
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.parser import parser as _luqum_parser

from foiarchive.index.analysis import normalize_keyword, terms
from foiarchive.schemas import parse_bates, prefix_key
from foiarchive.schemas.errors import FoiarchiveError
from foiarchive.schemas.findings import KINDS, is_kind

MAX_QUERY_LENGTH = 2000
MAX_CLAUSES = 256


class QueryError(FoiarchiveError, ValueError):
    """A query the user must fix; the message says what is wrong and where."""


# -- the AST ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Text:
    """Words in a full-text field: one term, or a phrase when there are several."""

    field: str
    terms: tuple[str, ...]
    slop: int = 0


@dataclass(frozen=True)
class TextPrefix:
    field: str
    prefix: str


@dataclass(frozen=True)
class Keyword:
    field: str
    value: str
    prefix: bool = False


@dataclass(frozen=True)
class Flag:
    field: str
    value: bool


@dataclass(frozen=True)
class DateRange:
    field: str
    start: date | None
    end: date | None  # both inclusive


@dataclass(frozen=True)
class PageKeys:
    """Exactly these pages ("<document id>:<page>"): what a resolved proximity search became."""

    keys: frozenset[str]


@dataclass(frozen=True)
class DocumentKeys:
    """Exactly these documents (their catalog ids): what a tag or a star became."""

    keys: frozenset[str]


@dataclass(frozen=True)
class Mark:
    """What a team keeps beside the index: tag:WORD, note:"words", starred:true, read:true.
    Never compiled by a backend: search.prepare asks the workspace which documents or pages
    it stands for, as the request's viewer sees them, and puts those keys in its place."""

    field: str
    value: str


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = (
    MatchAll
    | Text
    | TextPrefix
    | Keyword
    | Flag
    | DateRange
    | PageKeys
    | DocumentKeys
    | Mark
    | And
    | Or
    | Not
)

TEXT_FIELDS = ("text", "title", "from", "to", "subject")
KEYWORD_FIELDS = (
    "agency",
    "production",
    "document",
    "exemption",
    "bates",
    "source",
    "type",
    "leak",
)
FLAG_FIELDS = ("redacted", "withheld")
DATE_FIELDS = ("released", "sent")
MARK_FIELDS = ("tag", "note", "starred", "read")
ALL_FIELDS = TEXT_FIELDS + KEYWORD_FIELDS + FLAG_FIELDS + DATE_FIELDS + MARK_FIELDS

# Short names researchers type for media types.
_TYPE_ALIASES = {
    "pdf": "application/pdf",
    "csv": "text/csv",
    "text": "text/plain",
    "txt": "text/plain",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "tiff": "image/tiff",
    "tif": "image/tiff",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "image": "image/",
}
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
_ESCAPED = re.compile(r"\\(.)")


def parse(query: str) -> Node:
    """Parse a query string into the AST, or raise QueryError with a one-line reason."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"query is too long ({len(query)} characters; at most {MAX_QUERY_LENGTH})")
    if not query.strip():
        raise QueryError('empty query: type some words, a "phrase" or a filter such as agency:ICE')
    try:
        luqum_tree = _luqum_parser.parse(query)
    except IllegalCharacterError as exc:
        raise QueryError(_explain_illegal(query, str(exc))) from None
    except ParseError as exc:
        raise QueryError(_explain_syntax(str(exc))) from None
    except RecursionError:
        raise QueryError("query is nested too deeply") from None
    except Exception as exc:  # the parser's internals must never leak a traceback
        raise QueryError(f"cannot parse the query: {exc}") from None
    builder = _Builder(query)
    node = builder.build(luqum_tree, field=None)
    return _anchor_negations(node)


def highlight_terms(node: Node) -> tuple[set[str], set[str]]:
    """The full-text words and prefixes a hit should show highlighted (never negated ones)."""
    words: set[str] = set()
    prefixes: set[str] = set()

    def walk(n: Node) -> None:
        if isinstance(n, Text) and n.field == "text":
            words.update(n.terms)
        elif isinstance(n, TextPrefix) and n.field == "text":
            prefixes.add(n.prefix)
        elif isinstance(n, And | Or):
            for item in n.items:
                walk(item)

    walk(node)
    return words, prefixes


# -- luqum tree -> AST --------------------------------------------------------------------
class _Builder:
    def __init__(self, query: str) -> None:
        self.query = query
        self.clauses = 0

    def build(self, item: tree.Item, field: str | None) -> Node:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise QueryError(f"query has too many clauses (at most {MAX_CLAUSES})")
        match item:
            case tree.SearchField():
                if field is not None:
                    raise QueryError(
                        f"field {item.name}: cannot be nested inside {field}:{_at(item)}"
                    )
                name = item.name.lower()
                if name not in ALL_FIELDS:
                    raise QueryError(
                        f"unknown field '{item.name}'{_at(item)}; known fields: "
                        f"{', '.join(ALL_FIELDS)} (quote the words to search for a colon)"
                    )
                return self.build(item.expr, name)
            case tree.Group() | tree.FieldGroup():
                return self.build(item.expr, field)
            case tree.AndOperation() | tree.UnknownOperation():
                return _flatten(And, [self.build(c, field) for c in item.children])
            case tree.OrOperation():
                return _flatten(Or, [self.build(c, field) for c in item.children])
            case tree.Not() | tree.Prohibit():
                return Not(self.build(item.a, field))
            case tree.Plus():
                return self.build(item.a, field)
            case tree.Boost():
                self._check_boost(item)
                return self.build(item.expr, field)
            case tree.Proximity():
                self._refuse_signed_number(item, "~N proximity needs a whole number of words")
                return self._phrase(item.term, field or "text", slop=_int_degree(item))
            case tree.Phrase():
                return self._phrase(item, field or "text", slop=0)
            case tree.Word():
                return self._word(item, field or "text")
            case tree.Range() | tree.From() | tree.To():
                return self._range(item, field)
            case tree.Fuzzy():
                raise QueryError(f"fuzzy search (~) is not supported{_at(item)}; use prefix*")
            case tree.Regex():
                raise QueryError(f"regular expressions are not supported{_at(item)}; use prefix*")
        raise QueryError(f"cannot use '{item}' here{_at(item)}")

    def _refuse_signed_number(self, item: tree.Item, what: str) -> None:
        """luqum reads `"a"~-5` and `a^-1` as a bare ~ or ^ followed by the clause -5 (NOT 5),
        which silently found nothing; a sign right after the operator is a typo to report."""
        end = getattr(item, "pos", None)
        size = getattr(item, "size", None)
        if isinstance(end, int) and isinstance(size, int):
            following = re.match(r"[-+]\S*", self.query[end + size :])
            if following:
                raise QueryError(f"{what}, not '{following.group()}'{_at(item)}")

    def _check_boost(self, item: tree.Boost) -> None:
        what = "^ boost needs a positive number"
        self._refuse_signed_number(item, what)
        if str(item).endswith("^"):
            raise QueryError(f"{what}{_at(item)}")

    def _word(self, item: tree.Word, field: str) -> Node:
        raw = item.value
        if raw in ("AND", "OR", "NOT"):
            raise QueryError(f"'{raw}' needs a term on both sides{_at(item)}")
        if '"' in _ESCAPED.sub("", raw):
            raise QueryError(
                f"a quote inside the word '{raw}'{_at(item)}: put a space before a \"phrase\" "
                'or write \\" for a literal quote'
            )
        value = _ESCAPED.sub(r"\1", raw)
        is_prefix = value.endswith("*") and not raw.endswith("\\*")
        if is_prefix:
            value = value[:-1]
        if "*" in value or "?" in value.replace("\\?", ""):
            raise QueryError(f"only a trailing * wildcard is supported: '{raw}'{_at(item)}")
        if field in TEXT_FIELDS:
            return self._text(value, field, is_prefix, item)
        if field in FLAG_FIELDS:
            lowered = value.lower()
            if lowered not in _TRUE | _FALSE or is_prefix:
                raise QueryError(f"{field}: takes true or false, not '{raw}'{_at(item)}")
            return Flag(field, lowered in _TRUE)
        if field in DATE_FIELDS:
            return DateRange(field, *_date_bounds(value, field, item))
        if field == "leak":
            return _leak(value, is_prefix, item)
        if field in MARK_FIELDS:
            return _mark(field, value, is_prefix, item)
        return _keyword(field, value, is_prefix, item)

    def _text(self, value: str, field: str, is_prefix: bool, item: tree.Item) -> Node:
        words = terms(value)
        if not words:
            if is_prefix:
                raise QueryError(f"a prefix needs at least one letter or digit before *{_at(item)}")
            raise QueryError(f"'{value}' has no searchable words{_at(item)}")
        if is_prefix:
            if len(words) > 1:
                return And((Text(field, tuple(words[:-1])), TextPrefix(field, words[-1])))
            return TextPrefix(field, words[0])
        return Text(field, tuple(words))

    def _phrase(self, item: tree.Item, field: str, slop: int) -> Node:
        if not isinstance(item, tree.Phrase):
            raise QueryError(f'~N proximity applies to a "phrase"{_at(item)}')
        value = _ESCAPED.sub(r"\1", item.value[1:-1])
        if field in TEXT_FIELDS:
            words = terms(value)
            if not words:
                raise QueryError(f"phrase {item.value} has no searchable words{_at(item)}")
            return Text(field, tuple(words), slop)
        if field in MARK_FIELDS:
            return _mark(field, value, False, item)
        return (
            self._word(tree.Word(value), field)
            if field in FLAG_FIELDS + DATE_FIELDS
            else (_keyword(field, value, False, item))
        )

    def _range(self, item: tree.Item, field: str | None) -> Node:
        if field not in DATE_FIELDS:
            raise QueryError(
                f"ranges apply to {', '.join(DATE_FIELDS)}, not {field or 'free text'}{_at(item)}"
            )
        if isinstance(item, tree.Range):
            low, high = _bound_value(item.low), _bound_value(item.high)
            start = (
                None if low == "*" else _date_bounds(low, field, item)[0 if item.include_low else 1]
            )
            end = (
                None
                if high == "*"
                else _date_bounds(high, field, item)[1 if item.include_high else 0]
            )
            if not item.include_low and start is not None:
                start = date.fromordinal(start.toordinal() + 1)
            if not item.include_high and end is not None:
                end = date.fromordinal(end.toordinal() - 1)
        elif isinstance(item, tree.From):
            start_value = _date_bounds(_bound_value(item.a), field, item)
            start = (
                start_value[0] if item.include else date.fromordinal(start_value[1].toordinal() + 1)
            )
            end = None
        else:
            end_value = _date_bounds(_bound_value(item.a), field, item)
            end = end_value[1] if item.include else date.fromordinal(end_value[0].toordinal() - 1)
            start = None
        if start is not None and end is not None and start > end:
            raise QueryError(f"{field}: the range is empty ({start} is after {end}){_at(item)}")
        return DateRange(field, start, end)


def _keyword(field: str, value: str, is_prefix: bool, item: tree.Item) -> Keyword:
    if field == "bates" and not is_prefix:
        parsed = parse_bates(value)
        if parsed is not None:  # ICE-2017-000123, 'ICE 2017 000123' and ice2017-123 are one page
            return Keyword(field, parsed.key)
    if field == "bates" and is_prefix and prefix_key(value):
        return Keyword(field, prefix_key(value), prefix=True)  # bates:ICE-2017* = that prefix
    normalized = normalize_keyword(value)
    if field == "type":
        alias = _TYPE_ALIASES.get(normalized)
        if alias is not None:
            return Keyword(field, alias, prefix=alias.endswith("/"))
    if not normalized:
        raise QueryError(f"{field}: needs a value{_at(item)}")
    return Keyword(field, normalized, prefix=is_prefix)


def _leak(value: str, is_prefix: bool, item: tree.Item) -> Node:
    """leak:true (any finding), leak:false (none), leak:KIND (one kind of schemas.findings)."""
    lowered = value.lower()
    if lowered in _TRUE and not is_prefix:
        return Keyword("leak", "true")
    if lowered in _FALSE and not is_prefix:
        return Not(Keyword("leak", "true"))
    if is_kind(lowered) and not is_prefix:
        return Keyword("leak", lowered)
    raise QueryError(
        f"leak: takes true, false or a kind of leak ({', '.join(KINDS)}), not '{value}'{_at(item)}"
    )


def _mark(field: str, value: str, is_prefix: bool, item: tree.Item) -> Node:
    """tag:WORD (a tag as typed, case folded), note:"words" (a note holding these words in
    this order), starred:true|false, read:true|false."""
    if is_prefix:
        raise QueryError(f"{field}: takes no * prefix{_at(item)}")
    if field in ("starred", "read"):
        lowered = value.lower()
        if lowered not in _TRUE | _FALSE:
            raise QueryError(f"{field}: takes true or false, not '{value}'{_at(item)}")
        mark = Mark(field, "true")
        return mark if lowered in _TRUE else Not(mark)
    normalized = " ".join(terms(value)) if field == "note" else normalize_tag(value)
    if not normalized:
        raise QueryError(f"{field}: needs a value{_at(item)}")
    return Mark(field, normalized)


def normalize_tag(value: str) -> str:
    """A tag as kept and searched: trimmed, inner spaces made one, case folded."""
    return " ".join(value.split()).casefold()[:80]


def replace_marks(node: Node, keys_of: Callable[[Mark], Node]) -> Node:
    """The query with every Mark replaced by the keys `keys_of` says it stands for."""
    match node:
        case Mark():
            return keys_of(node)
        case And(items=items):
            return And(tuple(replace_marks(i, keys_of) for i in items))
        case Or(items=items):
            return Or(tuple(replace_marks(i, keys_of) for i in items))
        case Not(item=item):
            return Not(replace_marks(item, keys_of))
    return node


def _bound_value(item: tree.Item) -> str:
    if isinstance(item, tree.Phrase):
        return item.value[1:-1]
    return str(getattr(item, "value", item))


_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def _date_bounds(value: str, field: str, item: tree.Item) -> tuple[date, date]:
    """The first and last day a partial date (2017, 2017-06, 2017-06-08) stands for."""
    match = _DATE.match(value.strip())
    if not match:
        raise QueryError(
            f"{field}: '{value}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD){_at(item)}"
        )
    year = int(match.group(1))  # the pattern requires the year; month and day may be absent
    month, day = (int(g) if g else None for g in match.groups()[1:])
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return date(year, month, 1), date(year, month, last)
        exact = date(year, month, day)
    except ValueError as exc:
        raise QueryError(f"{field}: '{value}' is not a valid date ({exc}){_at(item)}") from None
    return exact, exact


def _int_degree(item: tree.Proximity) -> int:
    try:
        degree = int(item.degree) if item.degree is not None else 1
    except (TypeError, ValueError):
        raise QueryError(f"proximity needs a whole number of words{_at(item)}") from None
    if not 0 <= degree <= 100:
        raise QueryError(f"proximity must be between 0 and 100 words{_at(item)}")
    return degree


def _flatten(kind: type[And] | type[Or], items: list[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def _anchor_negations(node: Node) -> Node:
    """Give every purely negative conjunction something to subtract from ('NOT x' = all but x)."""
    if isinstance(node, Not):
        return And((MatchAll(), Not(_anchor_negations(node.item))))
    if isinstance(node, And):
        items = tuple(
            Not(_anchor_negations(i.item)) if isinstance(i, Not) else _anchor_negations(i)
            for i in node.items
        )
        if all(isinstance(i, Not) for i in items):
            items = (MatchAll(), *items)
        return And(items)
    if isinstance(node, Or):
        return Or(tuple(_anchor_negations(i) for i in node.items))
    return node


def _at(item: tree.Item) -> str:
    pos = getattr(item, "pos", None)
    return f" (at character {pos + 1})" if isinstance(pos, int) else ""


def _explain_illegal(query: str, message: str) -> str:
    match = re.search(r"at position (\d+)", message)
    position = int(match.group(1)) if match else None
    where = f" at character {position + 1}" if position is not None else ""
    character = query[position : position + 1] if position is not None else ""
    if character == '"':
        return f'unbalanced quote{where}: close the phrase with "'
    if character:
        return f"unexpected character {character!r}{where}"
    return f"unexpected character: {' '.join(message.split())}"


def _explain_syntax(message: str) -> str:
    if "unexpected end of expression" in message:
        return "the query ends too early: an operator without a right-hand side, or an unclosed '('"
    match = re.search(r"unexpected\s+'(.*)' at position (\d+)", message)
    if match:
        token, position = match.group(1), int(match.group(2)) + 1
        if token == ")":
            return f"unbalanced ')' at character {position}"
        if token in ("AND", "OR"):
            return f"'{token}' at character {position} needs a term on both sides"
        return f"unexpected '{token}' at character {position}"
    return f"syntax error: {' '.join(message.split())}"
