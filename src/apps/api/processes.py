"""The app of one of `fantasy serve --workers N`'s processes, built from the environment.

`fantasy serve` prepares the database (migrations, the operator account) once, then puts
in the environment everything the processes must agree on - the database, the token
secret (random per process otherwise, and a token signed by one would be refused by the
others), the clock - and starts them; each builds its own services, join batcher and
connection pool from it (decision 0055).
"""

from __future__ import annotations

import os

from litestar import Litestar

from apps.api.app import create_app
from apps.heap import freeze_startup_heap
from apps.logs import configure_logging
from apps.settings import load_settings

RUN_WORKER = "FANTASY_SERVE_RUN_WORKER"  # "1": the lifecycle worker runs in each process


def app_from_environment() -> Litestar:
    configure_logging()
    settings = load_settings()
    app = create_app(settings, run_worker=os.environ.get(RUN_WORKER) == "1")
    freeze_startup_heap()
    return app
