"""A live web dashboard over a study database: ``archspace dashboard --db FILE``.

Read-only (``archspace.study.read_store``): it never writes to the file, never takes a study's
lease, never resumes a study. ``create_app(db, results=None)`` is the Starlette application (the
JSON API is described in ``archspace.dashboard.app``); ``serve(db, host, port, results)`` checks
the database and the port and runs it under uvicorn. Charts are drawn by plotly's JavaScript,
served from the plotly package installed here, so nothing is fetched from the internet.
Starlette, uvicorn and plotly come with ``pip install archspace[dashboard]``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def create_app(db: str, results: str | None = None, max_rows: int | None = None) -> Any:
    """The dashboard's Starlette app over database ``db`` (see ``archspace.dashboard.app``)."""
    from archspace.dashboard.server import require_extra

    require_extra()
    from archspace.dashboard.app import create_app as make

    return make(db, results, max_rows)


def serve(db: str, host: str = "127.0.0.1", port: int = 8080, results: str | None = None) -> None:
    """Check the database and the port, then serve until Ctrl-C (see ``archspace.dashboard.server``)."""
    from archspace.dashboard.server import serve as run

    run(db, host, port, results)
