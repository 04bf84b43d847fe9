"""The app as `fantasy serve` runs it, over a fresh database with open contests, for
bench/web_pages.py: uvicorn, one process, 127.0.0.1:PORT; it writes the contest ids to
--info once it listens. `/bench/page-floor` answers a fixed page of the contest page's
size through the same server stack (no database, no template): the floor."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from litestar import Response, get

from apps.api.app import create_app
from apps.bootstrap import start
from apps.heap import freeze_startup_heap
from apps.settings import load_settings
from apps.templates import template
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.queries import slate_for_contests

TEMPLATES = ("tournament", "fifty_fifty", "double_up", "head_to_head", "league", "fixed_prizes")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info", type=Path, required=True)
    parser.add_argument("--floor-bytes", type=int, default=50_000)
    args = parser.parse_args()
    settings = load_settings(
        {
            "FANTASY_ENV": "test",
            "FANTASY_DATABASE_URL": args.database_url,
            "FANTASY_DATABASE_AUTO_UPGRADE": "true",
            "FANTASY_TOKEN_SECRET": "benchmark-secret-benchmark-secret-0123456789",
            "FANTASY_LOGIN_RATE_PER_MINUTE": "off",
        }
    )
    with start(settings) as services:
        platform = services.platform
        slate = slate_for_contests(platform, "nfl-2025-reg-wk01")
        lock_at = datetime.now(UTC) + timedelta(days=1)  # open: the replayed week is past
        kickoffs = dict.fromkeys(slate.kickoffs, lock_at)
        contests = [
            create_contest(
                platform,
                template(key).terms(slate.pool, lock_at, None, kickoffs=kickoffs),
                actor="bench",
            ).contest_id
            for key in TEMPLATES
        ]
        app = create_app(settings, services=services)
        page = b"<!doctype html><title>floor</title>" + b"x" * args.floor_bytes

        @get("/bench/page-floor", sync_to_thread=False, exclude_from_auth=True)
        def page_floor() -> Response[bytes]:
            return Response(page, media_type="text/html")

        app.register(page_floor)
        freeze_startup_heap()
        args.info.write_text(json.dumps({"contests": contests}))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=args.port, log_config=None, access_log=False
        )
        uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
