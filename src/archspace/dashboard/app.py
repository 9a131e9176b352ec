"""The dashboard's Starlette application: HTML pages, the JSON API, the static files.

JSON API (every answer is strict JSON; errors are ``{"error": message}`` with status 404 for an
unknown study / trial / file and 503 when the database cannot be read):

- ``GET /api/studies``: every study (``overview_json``).
- ``GET /api/studies/{name}``: one study, plus its unfinished trials (``open``).
- ``GET /api/studies/{name}/trials?after=CURSOR``: the trials that finished after log event
  ``CURSOR`` (0 or absent: all), in finishing order, each with its own ``cursor``; the answer's
  ``cursor`` is what to send next time. Also the study's ``counts``, ``status`` and ``open`` trials.
- ``GET /api/studies/{name}/charts``: EDFs, fronts, best-so-far, spec-statistic boxes.
- ``GET /api/studies/{name}/trials/{number}``: everything about one trial.
- ``GET /api/compare?study=A&study=B``: overlaid EDFs and fronts.
- ``GET /api/results`` and ``/api/results/file?path=REL``: the results folder (``--results``).

The handlers are ``async`` and do their (short) reads inline, so all database work happens on the
event loop's one thread, one request at a time: the read connection and the cache need no locks.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from archspace.dashboard import pages
from archspace.dashboard.charts import compare_charts, study_charts
from archspace.dashboard.results import list_results, read_result, resolve_result
from archspace.dashboard.state import Dashboard, NotFound, overview_json, trial_json
from archspace.errors import ArchspaceError, DataError, StorageError
from archspace.study.records import dumps

STATIC_DIR = Path(__file__).resolve().parents[1] / "resources" / "dashboard"
STATIC_TYPES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


class StrictJSON(JSONResponse):
    """JSON with NaN / inf written as null (the study's own encoder), compact."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def create_app(db: str, results: str | None = None, max_rows: int | None = None) -> Starlette:
    """The dashboard over database ``db`` (opened read-only on first use)."""
    dashboard = Dashboard(db, results) if max_rows is None else Dashboard(db, results, max_rows)
    routes = [
        Route("/", _html(dashboard, _list_page)),
        Route("/study/{name:path}/trial/{number:int}", _html(dashboard, _trial_page)),
        Route("/study/{name:path}", _html(dashboard, _study_page)),
        Route("/compare", _html(dashboard, _compare_page)),
        Route("/results", _html(dashboard, _results_page)),
        Route("/results/view", _html(dashboard, _result_page)),
        Route("/api/studies", _api(dashboard, _api_studies)),
        Route("/api/studies/{name:path}/trials/{number:int}", _api(dashboard, _api_trial)),
        Route("/api/studies/{name:path}/trials", _api(dashboard, _api_trials)),
        Route("/api/studies/{name:path}/charts", _api(dashboard, _api_charts)),
        Route("/api/studies/{name:path}", _api(dashboard, _api_study)),
        Route("/api/compare", _api(dashboard, _api_compare)),
        Route("/api/results/file", _api(dashboard, _api_result)),
        Route("/api/results", _api(dashboard, _api_results)),
        Route("/static/plotly.min.js", _plotly_js),
        Route("/static/{name}", _static),
    ]
    app = Starlette(routes=routes, exception_handlers={404: functools.partial(_not_found, dashboard)})
    app.state.dashboard = dashboard
    return app


# --- wrapping handlers: errors become pages or JSON -------------------------------------------------
def _frame(dashboard: Dashboard) -> tuple[str, bool]:
    return str(dashboard.db_path), dashboard.results is not None


def _html(dashboard: Dashboard, render: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        db, has_results = _frame(dashboard)
        try:
            return HTMLResponse(render(dashboard, request))
        except NotFound as exc:
            return HTMLResponse(pages.message_page(db, has_results, "Not found", str(exc)), status_code=404)
        except StorageError as exc:
            return HTMLResponse(pages.message_page(db, has_results, "Cannot read the study database", str(exc)),
                                status_code=503)
        except ArchspaceError as exc:
            return HTMLResponse(pages.message_page(db, has_results, "Cannot show this", str(exc)), status_code=400)
    return endpoint


def _api(dashboard: Dashboard, answer: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        start = time.perf_counter()
        try:
            answered = answer(dashboard, request)
            response = answered if isinstance(answered, Response) else StrictJSON(answered)
            # How long the dashboard itself took (the rest of a request's time is HTTP and the client).
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1e3:.2f}"
            return response
        except NotFound as exc:
            return StrictJSON({"error": str(exc)}, status_code=404)
        except StorageError as exc:
            return StrictJSON({"error": str(exc)}, status_code=503)
        except ArchspaceError as exc:
            return StrictJSON({"error": str(exc)}, status_code=400)
    return endpoint


async def _not_found(dashboard: Dashboard, request: Request, exc: HTTPException) -> Response:
    message = f"nothing at {request.url.path}"
    if request.url.path.startswith("/api/"):
        return StrictJSON({"error": message}, status_code=404)
    db, has_results = _frame(dashboard)
    return HTMLResponse(pages.message_page(db, has_results, "Not found", message), status_code=404)


# --- pages ----------------------------------------------------------------------------------------
def _list_page(dashboard: Dashboard, request: Request) -> str:
    dashboard.store()  # an unreadable database is a message page, not an empty list
    return pages.study_list_page(*_frame(dashboard))


def _study_page(dashboard: Dashboard, request: Request) -> str:
    study = dashboard.overview(request.path_params["name"])
    return pages.study_page(*_frame(dashboard), study.name)


def _trial_page(dashboard: Dashboard, request: Request) -> str:
    study = dashboard.overview(request.path_params["name"])
    trial = dashboard.trial(study, request.path_params["number"])
    return pages.trial_page(*_frame(dashboard), study.name, trial.number)


def _compare_page(dashboard: Dashboard, request: Request) -> str:
    names = _compared(request)
    for name in names:
        dashboard.overview(name)
    return pages.compare_page(*_frame(dashboard), names)


def _results_page(dashboard: Dashboard, request: Request) -> str:
    if dashboard.results is None:
        raise NotFound("no results folder was given (start the dashboard with --results DIR)")
    return pages.results_page(str(dashboard.db_path), str(dashboard.results))


def _result_page(dashboard: Dashboard, request: Request) -> str:
    relative = _result_path(dashboard, request)[0]
    return pages.result_page(str(dashboard.db_path), relative)


def _compared(request: Request) -> list[str]:
    names = [n for value in request.query_params.getlist("study") for n in value.split(",") if n]
    if not names:
        raise DataError("name the studies to compare: /compare?study=A&study=B")
    return list(dict.fromkeys(names))


def _result_path(dashboard: Dashboard, request: Request) -> tuple[str, Any]:
    if dashboard.results is None:
        raise NotFound("no results folder was given (start the dashboard with --results DIR)")
    relative = request.query_params.get("path", "")
    path = resolve_result(dashboard.results, relative)
    if path is None:
        raise NotFound(f"no result file {relative!r} in {dashboard.results}")
    return relative, path


# --- the JSON API ---------------------------------------------------------------------------------
def _api_studies(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    return {"database": str(dashboard.db_path),
            "studies": [overview_json(s) for s in dashboard.store().studies()]}


def _api_study(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    study = dashboard.overview(request.path_params["name"])
    return {**overview_json(study), "open": dashboard.open_rows(study)}


def _api_trials(dashboard: Dashboard, request: Request) -> Response:
    after = _cursor(request.query_params.get("after", "0"))
    study = dashboard.overview(request.path_params["name"])
    cached = dashboard.cached(study)
    head = dumps({"study": study.name, "after": after, "cursor": cached.cursor, "open": dashboard.open_rows(study),
                  "counts": study.counts, "finished": study.finished, "status": study.status,
                  "best_objective": study.best_objective, "best_number": study.best_number})
    # The rows were encoded once when they arrived: join them rather than encode 10,000 dicts again.
    body = head[:-1] + ',"trials":' + cached.json_after(after) + "}"
    return Response(body, media_type="application/json")


def _api_charts(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    return study_charts(dashboard.cached(dashboard.overview(request.path_params["name"])))


def _api_trial(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    study = dashboard.overview(request.path_params["name"])
    return trial_json(study, dashboard.trial(study, request.path_params["number"]))


def _api_compare(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    studies = {name: dashboard.cached(dashboard.overview(name)) for name in _compared(request)}
    return compare_charts(studies)


def _api_results(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    if dashboard.results is None:
        raise NotFound("no results folder was given (start the dashboard with --results DIR)")
    return {"folder": str(dashboard.results), "files": list_results(dashboard.results)}


def _api_result(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    relative, path = _result_path(dashboard, request)
    return {"path": relative, **read_result(path)}


def _cursor(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise DataError(f"after must be a whole number (a cursor the API returned), got {text!r}") from None
    if value < 0:
        raise DataError(f"after must be >= 0, got {value}")
    return value


# --- static files ---------------------------------------------------------------------------------
@functools.cache
def _plotly_bytes() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


@functools.cache
def _static_bytes(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


async def _plotly_js(request: Request) -> Response:
    return Response(_plotly_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_TYPES:
        raise HTTPException(404)
    return Response(_static_bytes(name), media_type=STATIC_TYPES[name], headers={"Cache-Control": "no-cache"})

