"""The dashboard in a real browser: uvicorn on a free loopback port, headless Chromium via Selenium.

Opens the study list and a study that another process is writing, checks that every chart drew
(plotly's SVG is there, the scatter holds the complete trials), that the browser console holds no
error, and that a trial finished meanwhile appears in the table and the scatter without a reload.
Screenshots go to a temporary folder (printed) for humans to look at. Skipped, with the reason,
only where Chromium or its driver is not installed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archspace.dashboard.server import bind, make_server
from archspace.evaluators.complexity import ComplexityEvaluator
from archspace.search.random_search import RandomSearch
from archspace.spaces.registry import get_space
from archspace.study import Study
from study_support import try_load

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SUPPORT = str(Path(__file__).with_name("study_support.py"))
LIVE_TRIALS = 60

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs headless Chromium: Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)")


@contextmanager
def serving(db: Path) -> Iterator[str]:
    """The dashboard under uvicorn in a thread, on a free loopback port; yields its base URL."""
    sock = bind("127.0.0.1", 0)
    server = make_server(str(db), sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def chromium() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800",
                 "--enable-unsafe-swiftshader", "--disable-extensions"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver, url: str, timeout: float = 20.0) -> None:
    started = time.time()
    driver.get(url)
    _wait(lambda: driver.execute_script("return document.body.getAttribute('data-ready')") == "1", timeout,
          f"{url} never finished its first render")
    print(f"{url}: {time.time() - started:.2f} s")


def _wait(condition, timeout: float, message: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, message
        time.sleep(0.05)


def _errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _plotted(driver, element_id: str) -> bool:
    """plotly drew into the element: its SVG is there and it holds at least one trace."""
    return bool(driver.execute_script(
        "var d = document.getElementById(arguments[0]);"
        "return !!d && !!d.querySelector('svg.main-svg') && !!d.data && d.data.length > 0;", element_id))


def test_study_list_and_a_live_study_page(tmp_path):
    db = tmp_path / "studies.db"
    done = Study.create("regnet", db, seed=1, config={"space": "regnetx"})
    done.optimize(RandomSearch(get_space("regnetx"), seed=1), ComplexityEvaluator("regnetx", resolution=32), 40)
    done.storage.close()
    Study.create("empty", db).storage.close()  # created, never run: every chart says why it is empty
    shots = tmp_path / "screenshots"
    shots.mkdir()
    writer = subprocess.Popen([sys.executable, SUPPORT, str(db), "live", str(LIVE_TRIALS), "population",
                               "inline", "0.3"])
    try:
        with serving(db) as base, chromium() as driver:  # started while the writer starts
            _wait(lambda: (s := try_load(db, "live")) is not None and s.counts()["complete"] >= 3, 30,
                  "the writer did not start")
            _open(driver, f"{base}/")
            rows = driver.find_elements("css selector", "#studies tbody tr")
            assert [r.get_attribute("data-study") for r in rows] == ["empty", "live", "regnet"]
            assert driver.find_element("css selector", "tr[data-study=live] .badge").text == "running"
            assert driver.find_element("css selector", "tr[data-study=regnet] .badge").text == "finished"
            driver.save_screenshot(str(shots / "study-list.png"))
            assert _errors(driver) == []

            _open(driver, f"{base}/study/live?poll_ms=400")
            driver.execute_script("window.__not_reloaded = true;")
            for chart in ("best", "edf", "scatter", "statistics"):
                assert _plotted(driver, chart), chart
            table = driver.find_element("id", "trials")
            before = int(table.get_attribute("data-finished"))
            points = driver.execute_script("return document.getElementById('scatter').data[0].x.length")
            assert 0 < points <= before < LIVE_TRIALS
            _wait(lambda: int(table.get_attribute("data-finished")) >= before + 2, 30, "no new trial appeared")
            assert driver.execute_script("return window.__not_reloaded === true")  # appended, not reloaded
            newest = int(table.get_attribute("data-finished")) - 1
            _wait(lambda: driver.find_elements("css selector", f"#trials tr[data-number='{newest}']"), 5,
                  f"trial {newest} is not in the table")
            assert driver.execute_script("return document.getElementById('scatter').data[0].x.length") > points
            driver.save_screenshot(str(shots / "study-live.png"))
            assert _errors(driver) == []

            _open(driver, f"{base}/study/regnet")
            for chart in ("best", "edf", "edf-normalized", "scatter", "statistics"):
                assert _plotted(driver, chart), chart
            assert len(driver.find_elements("css selector", "#trials tbody tr")) == 40
            driver.save_screenshot(str(shots / "study-regnet.png"))
            _open(driver, f"{base}/study/empty")
            assert driver.find_element("id", "edf").text == "no complete trial yet"
            assert _errors(driver) == []
            _open(driver, f"{base}/study/live/trial/0")
            assert '"kind": "nb201"' in driver.find_element("id", "spec").text
            driver.save_screenshot(str(shots / "trial.png"))
            _open(driver, f"{base}/compare?study=live&study=regnet")
            assert _plotted(driver, "edf") and _plotted(driver, "fronts")
            driver.save_screenshot(str(shots / "compare.png"))
            _open(driver, f"{base}/study/missing")
            assert driver.find_element("tag name", "h1").text == "Not found"
            assert [m for m in _errors(driver) if "404" not in m] == []  # the 404 itself is logged
    finally:
        writer.kill()
        writer.wait()
    print(f"screenshots in {shots}")
