#!/usr/bin/env python3
"""``make bench`` for pages: bytes on a cold load in Chromium, and Lighthouse scores.

The portal runs under gunicorn as in production; each page type is loaded in
a fresh browser profile (empty cache) and every response's encoded size
(headers and body, as transferred) is added up. Lighthouse (npm, pinned in
scripts/lighthouse/package.json) then scores the same pages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from portal.benchserver import fr, running_portal, server_label  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LIGHTHOUSE = ROOT / "scripts" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
PAGES = {
    "accueil": "/",
    "résultats de recherche": "/recherche?q=vol+de+papiers",
    "démarche": "/demarches/plainte-en-ligne",
    "situation": "/situations/vol-cambriolage",
    "unités proches (liste et carte)": "/commissariats?q=72000",
    "unité": "/commissariats/commissariat_police-72181-01",
}
HOME_BUDGET_KB = 250


def cold_load(browser, url: str) -> tuple[int, int]:
    """Bytes transferred and requests made to load ``url`` with an empty cache."""
    context = browser.new_context()
    page = context.new_page()
    sizes: list[int] = []

    def finished(request) -> None:
        s = request.sizes()
        sizes.append(s["responseBodySize"] + s["responseHeadersSize"])

    page.on("requestfinished", finished)
    page.goto(url, wait_until="networkidle")
    context.close()
    return sum(sizes), len(sizes)


def lighthouse(url: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        result = subprocess.run(
            [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
             "--only-categories=performance,accessibility,best-practices",
             "--chrome-flags=" + " ".join(CHROMIUM_ARGS), "--form-factor=mobile"],
            check=False, env=dict(os.environ, CHROME_PATH=CHROMIUM), cwd=tmp,
            capture_output=True, text=True,
        )
        if not report.exists():
            raise RuntimeError(f"lighthouse failed on {url}: {result.stderr[-2000:]}")
        categories = json.loads(report.read_text())["categories"]
    return {name: round(category["score"] * 100) for name, category in categories.items()}


def lighthouse_version() -> str:
    return json.loads((LIGHTHOUSE.parents[1] / "lighthouse" / "package.json").read_text())["version"]


def main() -> int:
    rows = []
    with running_portal() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        browser_version = browser.version
        for name, path in PAGES.items():
            url = base + path
            cold_load(browser, url)  # let the server warm up, then measure a fresh profile
            size, requests = cold_load(browser, url)
            scores = lighthouse(url)
            rows.append((name, path, size, requests, scores))
        browser.close()
    print(f"Portail servi par gunicorn ({server_label()}), Chromium {browser_version}, "
          f"Lighthouse {lighthouse_version()}.\n")
    print("| page | adresse | transféré à froid | requêtes | performance | accessibilité | bonnes pratiques |")
    print("|---|---|---|---|---|---|---|")
    for name, path, size, requests, scores in rows:
        print(f"| {name} | `{path}` | {fr(size / 1000)} ko | {requests} | {scores['performance']} "
              f"| {scores['accessibility']} | {scores['best-practices']} |")
    home = rows[0][2] / 1000
    print(f"\nAccueil : {fr(home)} ko transférés (budget {HOME_BUDGET_KB} ko).")
    failed = [r for r in rows if r[4]["accessibility"] < 100 or r[4]["performance"] < 90
              or r[4]["best-practices"] < 95]
    return 1 if home > HOME_BUDGET_KB or failed else 0


if __name__ == "__main__":
    sys.exit(main())
