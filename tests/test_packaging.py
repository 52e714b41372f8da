"""What a production install contains: the portal, not the development tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from portal.config import ROOT

PACKAGES = ("portal", "accounts", "agents", "catalogue", "complaints", "editorial", "orientation", "search", "maps",
            "widgets", "api",
            "local_franceconnect")


def test_the_wheel_holds_the_portal_without_the_local_franceconnect(tmp_path):
    # Built from a copy of the sources: setuptools writes build/ and *.egg-info beside what it builds.
    source = tmp_path / "source"
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "app.py"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(tmp_path / "dist")], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("portail_citoyen-*.whl")
    top = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {"app.py", "portal", "accounts", "agents", "catalogue", "complaints", "orientation", "search", "maps",
            "widgets", "api"} <= top
    assert "local_franceconnect" not in top
