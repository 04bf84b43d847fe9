"""CSV exports: a contest's lineups and points (GET /contests/{id}/lineups.csv)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence

from fantasy_core.lineups import SportTemplate
from fantasy_core.scoring import format_points
from fantasy_core.usecases.lineup_export import ExportedLineup

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def slot_headers(template: SportTemplate) -> list[str]:
    """The template's slot names, numbered where one repeats: QB, RB1, RB2, WR1, ..."""
    counts = Counter(template.slot_names)
    seen: Counter[str] = Counter()
    headers = []
    for name in template.slot_names:
        seen[name] += 1
        headers.append(f"{name}{seen[name]}" if counts[name] > 1 else name)
    return headers


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def lineups_csv(
    template: SportTemplate, rows: Sequence[ExportedLineup], names: Mapping[str, str]
) -> str:
    """The export as CSV (RFC 4180, CRLF): rank, entry_id, display_name, points, then one
    column per roster slot holding the player id, empty while the pick is hidden."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["rank", "entry_id", "display_name", "points", *slot_headers(template)])
    for row in rows:
        name = _text(names.get(row.user_id, row.user_id))
        picks = [player_id or "" for _, player_id in row.picks]
        writer.writerow([row.rank, row.entry_id, name, format_points(row.points), *picks])
    return out.getvalue()
