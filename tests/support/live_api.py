"""`python -m tests.support.live_api DATABASE_URL PORT`: the test app under uvicorn in a process of its own.

The fuzz test used to serve it from a thread of the pytest process, sharing the GIL with hypothesis
generating cases in the main thread; on a loaded 2-core machine a PATCH timed out there after
schemathesis' 10 s. No wait on a patients lock and no statement over 3 s showed in pg_stat_activity (polled every 0.5 s
through a fuzz run and a full run): the request was waiting for CPU, not for the database.
"""

from __future__ import annotations

import sys

import uvicorn

from tests.support.world import settings
from vitalgate.api.app import create_app, uvicorn_config


def main() -> None:
    database_url, port = sys.argv[1], int(sys.argv[2])
    app = create_app(database_url, settings=settings())
    uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning")).run()


if __name__ == "__main__":
    main()
