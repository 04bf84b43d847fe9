"""Display text: names that other people read (contest names, players' display names).

Such text is shown on leaderboards and lobbies, so it must read as what it is. It
may hold any printable character of any script (accents, emoji and the joiners
they need), but no control character (a newline or a bell in a name breaks every
list it appears in) and no bidirectional control (an override, an embedding, an
isolate or a mark: "\u202egnp.exe" shows as "exe.png", and a name could display as
someone else's). Zero-width spaces, the byte-order mark and line or paragraph
separators are refused for the same reason: a reader cannot see them.
"""

from __future__ import annotations

import unicodedata

from fantasy_core.errors import InvalidText

# Unicode's bidirectional formatting characters (UAX #9): embeddings, overrides and their
# terminator, isolates and theirs, and the implicit marks.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200e\u200f\u061c"  # LRM RLM ALM
)
INVISIBLE = frozenset("\u200b\u2060\ufeff\u2028\u2029")  # ZWSP, WJ, BOM, LS, PS
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})  # controls; lone surrogates (not text at all)


def display_text(field: str, value: str, max_length: int) -> str:
    """`value` stripped and in Unicode's composed form (NFC), or InvalidText naming `field`,
    the rule broken (empty, too_long, control_character, bidi_control, invisible_character)
    and where."""
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        raise InvalidText(field, "empty", f"{field} must not be empty")
    if len(text) > max_length:
        raise InvalidText(
            field, "too_long", f"{field} has {len(text)} characters, at most {max_length}"
        )
    for position, char in enumerate(text, start=1):
        rule = _refused(char)
        if rule is not None:
            raise InvalidText(
                field,
                rule,
                f"{field} holds {_describe(char)} at character {position}; display text "
                "takes visible characters only (no control, bidirectional or invisible ones)",
            )
    return text


def _refused(char: str) -> str | None:
    if char in BIDI_CONTROLS:
        return "bidi_control"
    if char in INVISIBLE:
        return "invisible_character"
    if unicodedata.category(char) in _CONTROL_CATEGORIES:
        return "control_character"
    return None


def _describe(char: str) -> str:
    name = unicodedata.name(char, "a control character")
    return f"U+{ord(char):04X} ({name})"
