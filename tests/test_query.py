"""The query language: what parses to what, and errors that say what is wrong."""

from datetime import date

import pytest
import tantivy
from hypothesis import given, settings
from hypothesis import strategies as st

from foiarchive.index.query import (
    And,
    DateRange,
    Flag,
    Keyword,
    MatchAll,
    Not,
    Or,
    QueryError,
    Text,
    TextPrefix,
    highlight_terms,
    parse,
)
from foiarchive.index.tantivy_backend import _schema, compile_query

_SCHEMA = _schema()


def test_terms_are_anded_and_phrases_kept_whole() -> None:
    assert parse('deportation AND "Secure Communities"') == And(
        (Text("text", ("deportation",)), Text("text", ("secure", "communities")))
    )
    assert parse("deportation detainer") == And(
        (Text("text", ("deportation",)), Text("text", ("detainer",)))
    )


def test_boolean_operators_prefix_and_proximity() -> None:
    assert parse("a OR b") == Or((Text("text", ("a",)), Text("text", ("b",))))
    assert parse("a -b") == And((Text("text", ("a",)), Not(Text("text", ("b",)))))
    assert parse("NOT b") == And((MatchAll(), Not(Text("text", ("b",)))))
    assert parse("deport*") == TextPrefix("text", "deport")
    assert parse('"secure communities"~5') == Text("text", ("secure", "communities"), 5)


def test_fields_are_normalized() -> None:
    assert parse("agency:ICE") == Keyword("agency", "ice")
    assert parse("type:pdf") == Keyword("type", "application/pdf")
    assert parse("redacted:true") == Flag("redacted", True)
    assert parse("released:[2017-01-01 TO 2017-06-30]") == DateRange(
        "released", date(2017, 1, 1), date(2017, 6, 30)
    )
    assert parse("released:>=2017") == DateRange("released", date(2017, 1, 1), None)
    assert parse("released:2017-06") == DateRange("released", date(2017, 6, 1), date(2017, 6, 30))


def test_a_range_open_at_both_ends_means_has_a_value() -> None:
    for query in ("released:[* TO *]", "released:{* TO *}", "released:[* TO *}"):
        assert parse(query) == DateRange("released", None, None)
    assert parse("sent:[* TO *]") == DateRange("sent", None, None)
    assert isinstance(compile_query(parse("sent:[* TO *]"), _SCHEMA), tantivy.Query)


def test_escaped_quotes_and_signs_after_a_space_still_parse() -> None:
    assert parse('foo\\"bar') == Text("text", ("foo", "bar"))
    assert parse('"freedom"~ -5') == And((Text("text", ("freedom",), 1), Not(Text("text", ("5",)))))
    assert parse("freedom^2") == Text("text", ("freedom",))


def test_a_word_with_punctuation_becomes_a_phrase() -> None:
    assert parse("ICE-2017-000123") == Text("text", ("ice", "2017", "000123"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"secure communities', "unbalanced quote"),
        ("(deportation", "unclosed '('"),
        ("deportation)", "unbalanced ')'"),
        ("AND", "needs a term on both sides"),
        ("deportation AND", "ends too early"),
        ("color:blue", "unknown field 'color'"),
        ("released:2017-13-01", "not a valid date"),
        ("released:last-year", "not a date"),
        ("redacted:maybe", "takes true or false"),
        ("*", "prefix needs at least one letter"),
        ("de*port", "only a trailing * wildcard"),
        ("", "empty query"),
        ("deport~2", "fuzzy search"),
        ("[a TO b]", "ranges apply to released"),
        ('"freedom"~-5', "proximity needs a whole number of words, not '-5'"),
        ('"freedom"~+5', "proximity needs a whole number of words, not '+5'"),
        ("freedom^-1", "boost needs a positive number, not '-1'"),
        ("freedom^", "boost needs a positive number"),
        ('foo"bar', "a quote inside the word"),
        ('foo"bar"', "a quote inside the word"),
    ],
)
def test_malformed_queries_say_what_is_wrong(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=None) as error:
        parse(query)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_negated_words_are_not_highlighted() -> None:
    words, prefixes = highlight_terms(parse('detainer* "secure communities" -juvenile'))
    assert words == {"secure", "communities"}
    assert prefixes == {"detainer"}


def _parses_or_is_refused_in_one_line(query: str) -> None:
    """Any string either compiles to a Tantivy query or gets a one-line QueryError."""
    try:
        node = parse(query)
    except QueryError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    assert isinstance(compile_query(node, _SCHEMA), tantivy.Query)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*'ab "()*:-~^[]{}\\/!?+&|', " AND ", " OR ", " NOT ", "agency:", "released:", "TO"]
        ),
        max_size=25,
    ).map("".join)
)
def test_no_input_escapes_as_anything_but_a_query_error(query: str) -> None:
    _parses_or_is_refused_in_one_line(query)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_never_crashes_the_parser(query: str) -> None:
    _parses_or_is_refused_in_one_line(query)
