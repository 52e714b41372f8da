"""Editors' restricted Markdown: the catalogue's renderer (``catalogue.markdown``), which the public
procedure page uses too, so a preview shows exactly what citizens will see."""

from __future__ import annotations

from catalogue.markdown import allowed_url, render

__all__ = ["allowed_url", "render"]
