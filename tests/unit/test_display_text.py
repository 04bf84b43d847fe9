"""Display text (contest names, display names): visible characters, none a reader cannot see."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.errors import InvalidText
from fantasy_core.text import BIDI_CONTROLS, INVISIBLE, display_text


@given(st.text(max_size=60))
def test_accepted_text_holds_no_control_bidirectional_or_invisible_character(text: str) -> None:
    try:
        shown = display_text("name", text, 60)
    except InvalidText:
        return
    assert shown
    assert shown == shown.strip()
    for char in shown:
        assert char not in BIDI_CONTROLS | INVISIBLE
        assert unicodedata.category(char) not in {"Cc", "Cs"}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "empty"),
        ("x" * 41, "too_long"),
        ("a\tb", "control_character"),
        ("a\u202eb", "bidi_control"),
        ("a\u200fb", "bidi_control"),
        ("a\ufeffb", "invisible_character"),
    ],
)
def test_each_refusal_says_its_rule(text: str, rule: str) -> None:
    with pytest.raises(InvalidText) as refused:
        display_text("display_name", text, 40)
    assert refused.value.rule == rule


def test_text_is_kept_in_its_composed_form() -> None:
    assert display_text("name", " Zoe\u0308 ", 40) == "Zo\u00eb"
