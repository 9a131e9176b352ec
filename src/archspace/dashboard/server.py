"""Start the dashboard: check the database and the port first, then serve with uvicorn.

``serve(db, host, port, results)`` refuses, before anything is served, a missing or non-archspace
database (``StorageError``), a results path that is not a folder and a port already in use
(``UsageError`` naming host and port); the CLI turns each into one line and exit status 2. The
socket is bound here and handed to uvicorn, so nothing can take the port in between.
"""

from __future__ import annotations

import errno
import socket
import sys
import time
from typing import Any

from archspace.errors import UsageError
from archspace.study.read_store import ReadStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def check_database(db: str) -> None:
    """Open the database read-only once and list its studies: any problem is a ``StorageError``."""
    with ReadStore.open(db) as store:
        store.studies()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one); a clear error if taken."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot bind to host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use; choose another with --port") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise UsageError(f"no permission to listen on {host}:{port}; choose a port above 1023") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def make_server(db: str, sock: socket.socket, results: str | None = None, log_level: str = "warning",
                warm: bool = False) -> Any:
    """A uvicorn ``Server`` for the dashboard app (run it with ``server.run(sockets=[sock])``);
    ``warm``: read every study's trials into the cache before serving (``Dashboard.warm``)."""
    import uvicorn

    from archspace.dashboard.app import create_app

    app = create_app(db, results)
    if warm:
        start = time.perf_counter()
        trials = app.state.dashboard.warm()
        print(f"archspace dashboard: read {trials} trials in {time.perf_counter() - start:.1f} s",
              file=sys.stderr, flush=True)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off")
    return uvicorn.Server(config)


def serve(db: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, results: str | None = None) -> None:
    """Check everything, then serve until interrupted (Ctrl-C)."""
    require_extra()
    check_database(db)
    if results is not None:
        from archspace.dashboard.results import check_folder

        check_folder(results)
    sock = bind(host, port)
    server = make_server(db, sock, results, warm=True)
    shown = f"[{host}]" if ":" in host else host
    print(f"archspace dashboard on http://{shown}:{sock.getsockname()[1]}/ (database {db}; Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught
        pass
    finally:
        sock.close()
    print("archspace dashboard stopped", file=sys.stderr)


def require_extra() -> None:
    """A one-line ``UsageError`` naming the extra when Starlette, uvicorn or plotly is missing."""
    try:
        import plotly  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the dashboard needs {exc.name}: pip install archspace[dashboard]") from None
