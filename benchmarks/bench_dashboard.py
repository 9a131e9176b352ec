"""Dashboard speed on a large study: the study page in headless Chromium, and ``?after=`` refreshes.

1. Builds (or reuses, ``--db``) a study of N RegNetX models costed analytically (the
   ``complexity`` evaluator: real trials with flops / params / acts and 4-stage specs, so every
   chart and all ~20 spec statistics have data).
2. Serves the dashboard with uvicorn on a free loopback port and opens the study page in headless
   Chromium: once with the server's cache empty (the first visit reads every trial from the file;
   ``archspace dashboard`` itself reads them before it starts serving, see ``Dashboard.warm``),
   then ``--rounds`` times warm. Reported: wall time from navigation to the page's
   ``data-ready`` mark (every chart drawn), and the page's own marks (trials loaded, table drawn,
   line charts, scatter: everything above the fold, then the spec-statistics grid: all charts).
3. ``--rounds`` times: the study grows by ``--new`` trials (this process resumes it, as a driver
   would), then the refresh a page makes, ``GET /api/studies/NAME/trials?after=CURSOR``, is timed
   over HTTP (httpx, keep-alive): the first request after the write, which reads the new trials
   from the file, and a poll with nothing new; also the part spent inside the dashboard (its
   ``Server-Timing`` header). The answer must hold exactly the new trials.

    .venv/bin/python benchmarks/bench_dashboard.py [--trials 10000] [--rounds 5] [--new 10] [--db FILE]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from archspace.dashboard.server import bind, make_server
from archspace.dashboard.state import Dashboard
from archspace.evaluators.complexity import ComplexityEvaluator
from archspace.search.random_search import RandomSearch
from archspace.spaces.registry import get_space
from archspace.study import Study

NAME = "bench"
MARKS = ("trials-loaded", "table-drawn", "line-charts-drawn", "scatter-drawn", "charts-drawn")


def _evaluator() -> ComplexityEvaluator:
    return ComplexityEvaluator("regnetx", resolution=32, num_classes=10)


def grow(db: Path, n: int) -> float:
    """Run (or resume) the study until it has ``n`` finished trials; returns the seconds taken."""
    start = time.perf_counter()
    study = Study.create(NAME, db, seed=0, config={"space": "regnetx"}, load_if_exists=True)
    study.optimize(RandomSearch(get_space("regnetx"), seed=0), _evaluator(), n)
    study.storage.close()
    return time.perf_counter() - start


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800",
                 "--enable-unsafe-swiftshader"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def load_page(driver, url: str) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    driver.get(url)
    while driver.execute_script("return document.body.getAttribute('data-ready')") != "1":
        time.sleep(0.01)
    wall = time.perf_counter() - start
    marks = driver.execute_script(
        "return performance.getEntriesByType('mark').map(function (m) { return [m.name, m.startTime]; })")
    return wall, {name: t / 1000 for name, t in marks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--new", type=int, default=10)
    parser.add_argument("--db", type=Path, help="reuse (and grow) this database instead of a temporary one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or Path(folder) / "dashboard.db"
        print(f"[build] study of {args.trials} RegNetX trials (complexity evaluator): {grow(db, args.trials):.1f} s")
        start = time.perf_counter()
        dashboard = Dashboard(str(db))
        trials = dashboard.warm()
        dashboard.close()
        print(f"[warm-up] archspace dashboard's start-up read of {trials} trials: {time.perf_counter() - start:.2f} s")
        sock = bind("127.0.0.1", 0)
        server = make_server(str(db), sock)  # no warm-up: the first visit below reads every trial
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            pages(base, args.rounds)
            refreshes(db, base, args.rounds, args.new)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def pages(base: str, rounds: int) -> None:
    driver = browser()
    try:
        load_page(driver, f"{base}/")  # the study list first, as a user arrives
        for label in ["cold"] + ["warm"] * rounds:
            wall, marks = load_page(driver, f"{base}/study/{NAME}")
            points = driver.execute_script("return document.getElementById('scatter').data[0].x.length")
            shown = ", ".join(f"{m} {marks[m]:.2f}" for m in MARKS if m in marks)
            print(f"[page] {label}: study page ready in {wall:.2f} s ({points} points; marks since navigation: {shown})")
    finally:
        driver.quit()


def refreshes(db: Path, base: str, rounds: int, new: int) -> None:
    url = f"{base}/api/studies/{NAME}/trials"
    with httpx.Client(timeout=60) as client:
        cursor = client.get(url, params={"after": 0}).json()["cursor"]
        total = client.get(f"{base}/api/studies/{NAME}").json()["finished"]
        first, idle, charts, inside, idle_inside = [], [], [], [], []
        for _ in range(rounds):
            total += new
            grow(db, total)
            start = time.perf_counter()
            response = client.get(url, params={"after": cursor})
            first.append(time.perf_counter() - start)
            inside.append(_server_seconds(response))
            answer = response.json()
            assert len(answer["trials"]) == new, len(answer["trials"])
            cursor = answer["cursor"]
            start = time.perf_counter()
            response = client.get(url, params={"after": cursor})
            idle.append(time.perf_counter() - start)
            idle_inside.append(_server_seconds(response))
            assert response.json()["trials"] == []
            start = time.perf_counter()
            client.get(f"{base}/api/studies/{NAME}/charts").raise_for_status()
            charts.append(time.perf_counter() - start)
    ms = lambda values: ", ".join(f"{v * 1e3:.1f}" for v in values)  # noqa: E731
    print(f"[refresh] ?after= with {new} new trials: median {statistics.median(first) * 1e3:.1f} ms ({ms(first)}); "
          f"inside the dashboard (Server-Timing) median {statistics.median(inside) * 1e3:.1f} ms ({ms(inside)})")
    print(f"[refresh] ?after= with nothing new:   median {statistics.median(idle) * 1e3:.1f} ms ({ms(idle)}); "
          f"inside the dashboard median {statistics.median(idle_inside) * 1e3:.1f} ms ({ms(idle_inside)})")
    print(f"[refresh] charts recomputed after {new} new trials: median {statistics.median(charts) * 1e3:.1f} ms "
          f"({ms(charts)})")


def _server_seconds(response: httpx.Response) -> float:
    """The dashboard's own time for a request, from its ``Server-Timing: app;dur=MS`` header."""
    return float(response.headers["server-timing"].split("dur=")[1]) / 1e3


if __name__ == "__main__":
    main()
