"""The JSON body check (apps.api.hygiene): repeated keys and NULs refused at any depth,
whichever of its two paths (with or without an escaped NUL in the text) reads the body."""

from __future__ import annotations

import pytest
from litestar.exceptions import ValidationException

from apps.api.hygiene import refuse_ambiguous_json

REFUSED = [
    ('{"a": 1, "a": 2}', "repeats the key 'a'"),
    ('{"lineup": [{"slot": "QB", "slot": "RB"}], "x": 1}', "repeats the key 'slot'"),
    ('{"a": {"b": {"c": 1, "c": 1}}}', "repeats the key 'c'"),
    # The same, with an escaped NUL elsewhere in the text: the other path.
    ('{"a": 1, "a": 2, "n": "\\\\u0000"}', "repeats the key 'a'"),
    ('{"payment_method": "pm_\\u0000visa"}', "NUL"),
    ('{"k\\u0000": 1}', "NUL"),
    ('{"lineup": [["QB", "p\\u0000"]]}', "NUL"),
    ('[{"deep": {"x": "\\u0000"}}]', "NUL"),
]


@pytest.mark.parametrize(("body", "said"), REFUSED)
def test_a_repeated_key_or_a_nul_is_refused_wherever_it_is(body: str, said: str) -> None:
    with pytest.raises(ValidationException, match=said):
        refuse_ambiguous_json(body.encode())


@pytest.mark.parametrize(
    "body",
    [
        '{"a": 1, "b": {"a": 2}}',  # the same key in two objects is not a repeat
        '{"n": "\\\\u0000"}',  # a backslash, then the letters u0000: no NUL
        '{"lineup": [{"slot": "QB", "player_id": "p1"}], "payment_method": "pm_card_visa"}',
        "[1, 2, 3]",
        '{"a": ',  # malformed: the framework's decoder says where
    ],
)
def test_what_is_not_ambiguous_passes(body: str) -> None:
    refuse_ambiguous_json(body.encode())
