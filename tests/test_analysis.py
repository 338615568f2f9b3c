"""The shared analyzer follows Unicode word boundaries like Elasticsearch's standard analyzer."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foiarchive.index.analysis import _ASCII_WORD, _WORD_SEGMENT, index_text, terms, tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Secure Communities", ["secure", "communities"]),
        ("don't stop", ["don't", "stop"]),
        ("3.14 and 1,000", ["3.14", "and", "1,000"]),
        ("john.doe@ice.dhs.gov", ["john.doe", "ice.dhs.gov"]),
        ("ICE-2017-000123", ["ice", "2017", "000123"]),
        ("(b)(6) b7C", ["b", "6", "b7c"]),
        ("foo_bar", ["foo_bar"]),
        ("naïve café", ["naïve", "café"]),
        ("日本語", ["日", "本", "語"]),
        ("--- ... ***", []),
        ("", []),
    ],
)
def test_terms_follow_word_boundaries(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_offsets_point_into_the_original_text() -> None:
    text = "Memo: DEPORTATION of (b)(6)"
    for token in tokenize(text):
        assert text[token.start : token.end].lower() == token.term


def test_index_text_is_terms_joined_by_spaces() -> None:
    assert index_text("The Secure-Communities  program") == "the secure communities program"


def test_overlong_runs_are_cut_like_lucene() -> None:
    assert [len(t) for t in terms("x" * 600)] == [255, 255, 90]


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="aZ09_ :.',;-@/()\t\n", max_size=40))
def test_the_ascii_shortcut_splits_like_the_unicode_rules(text: str) -> None:
    assert _ASCII_WORD.findall(text) == _WORD_SEGMENT.findall(text)
