"""The HTML report in a real browser: headless Chromium must load every embedded figure."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from archspace.report.build import ReportConfig
from archspace.report.html import write_report
from test_report_build import synthetic_population

# Appended to a copy of the report: after load, count images the browser decoded.
PROBE = (
    "<script>window.addEventListener('load', function () {"
    "var images = document.images, ok = 0;"
    "for (var i = 0; i < images.length; i++) { if (images[i].complete && images[i].naturalWidth > 0) ok++; }"
    "var probe = document.createElement('div'); probe.id = 'probe';"
    "probe.textContent = 'loaded ' + ok + ' of ' + images.length; document.body.appendChild(probe); });"
    "</script>"
)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless Chromium on this machine (apt-get install chromium to run this test)")


def test_chromium_shows_every_figure(tmp_path: Path) -> None:
    browser = _chromium()
    table = synthetic_population({"anynetx_a": 1.0, "regnetx": 0.0}, n=12, seed=3)
    paths = write_report(table, tmp_path / "report", ReportConfig(reps=200, statistics=["depth", "flops"]))
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(paths.html.read_text().replace("</body>", PROBE + "</body>"))
    shutil.rmtree(tmp_path / "report" / "figures")  # the page must not need the figure files
    result = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
         probe_page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    found = re.search(r'id="probe">loaded (\d+) of (\d+)<', result.stdout)
    assert found, f"Chromium produced no probe result (exit {result.returncode}): {result.stderr[-500:]}"
    loaded, total = int(found.group(1)), int(found.group(2))
    assert total == len(paths.figures) and total >= 6
    assert loaded == total
