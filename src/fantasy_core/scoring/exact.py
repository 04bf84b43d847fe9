"""Exact numbers for scoring: parsing stat values and printing points as terminating decimals."""

from __future__ import annotations

import re
from fractions import Fraction

from fantasy_core.errors import InvalidScoringRules, InvalidStatLine

# A plain decimal with an optional short exponent: "12", "-3", "+0.5", ".5", "7.", "1e+05".
# The exponent is accepted because R (nflverse's language) writes 100000 as "1e+05"; it is
# limited to three digits so a hostile cell cannot make us build a gigantic integer.
# Fractions ("1/2"), underscores, non-ASCII digits, NaN and infinities are not numbers a
# stat feed writes.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


def parse_stat_value(text: str) -> Fraction:
    """The exact value of a stat cell such as "12", "-3", "0.5" or "1e+05" (spaces around allowed).

    Raises InvalidStatLine for anything else: empty text, "NA", "nan", "inf", "1/2", "1_000".
    Missing-value conventions ("" or "NA" meaning 0) belong to the reader of a file, not here.
    """
    stripped = text.strip()
    if stripped.isdigit() and stripped.isascii():
        return Fraction(int(stripped))
    if _DECIMAL.fullmatch(stripped) is None:
        raise InvalidStatLine(f"not an exact finite number: {text!r}")
    return Fraction(stripped)


def is_terminating(value: Fraction) -> bool:
    """True when `value` has a finite decimal expansion (denominator 2**a * 5**b)."""
    d = value.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    return d == 1


def exact_points(value: object, what: str) -> Fraction:
    """`value` as a Fraction, if it is an int or a Fraction with a terminating decimal.

    Anything else is InvalidScoringRules naming `what`; floats above all, since 0.1 is
    not one tenth and a rule set must score exactly.
    """
    if type(value) is int:
        return Fraction(value)
    if not isinstance(value, Fraction):
        raise InvalidScoringRules(
            f"{what} must be an int or a fractions.Fraction, got {type(value).__name__} {value!r}"
        )
    if not is_terminating(value):
        raise InvalidScoringRules(
            f"{what} must have a terminating decimal expansion so scores print exactly, got {value}"
        )
    return value


def format_points(points: Fraction | int) -> str:
    """`points` as an exact decimal: Fraction(62, 10) -> "6.2", Fraction(-3, 2) -> "-1.5", 7 -> "7".

    Raises ValueError for a value with no finite decimal expansion (such as 1/3): printing
    it would mean rounding, and scores are never rounded. Scores of valid rule sets on
    valid stat lines always terminate.
    """
    if type(points) is int:
        return str(points)
    if not isinstance(points, Fraction):
        raise TypeError(f"points must be an int or a Fraction, got {type(points).__name__}")
    if not is_terminating(points):
        raise ValueError(f"{points} has no finite decimal expansion")
    d = points.denominator
    if d == 1:
        return str(points.numerator)
    # The fewest decimal places k with d dividing 10**k; the last digit is then never 0.
    k = 1
    while (10**k) % d:
        k += 1
    digits = str(abs(points.numerator) * (10**k // d)).rjust(k + 1, "0")
    sign = "-" if points < 0 else ""
    return f"{sign}{digits[:-k]}.{digits[-k:]}"


def fraction_text(value: Fraction) -> str:
    """A fraction as a rule set's canonical form spells it: "n/d" in lowest terms."""
    return f"{value.numerator}/{value.denominator}"


_FRACTION_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)/[1-9][0-9]*")


def parse_fraction_text(text: object, where: str) -> Fraction:
    """The inverse of fraction_text; anything but the canonical spelling is InvalidScoringRules."""
    if not isinstance(text, str) or _FRACTION_TEXT.fullmatch(text) is None:
        raise InvalidScoringRules(f"{where}: expected a fraction written 'n/d', got {text!r}")
    value = Fraction(text)
    if fraction_text(value) != text:
        raise InvalidScoringRules(
            f"{where}: expected the fraction in lowest terms {fraction_text(value)!r}, got {text!r}"
        )
    return value
