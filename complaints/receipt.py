"""The récépissé (PDF receipt) of a plainte en ligne, made with WeasyPrint from an HTML template.

WeasyPrint fetches every URL a document names by default (a ``file:///``
link with ``rel="attachment"`` would embed a server file in the PDF): the
fetcher here opens nothing but the two Marianne font files of
``static/vendor/dsfr/fonts``. User text reaches the template through Jinja's
autoescaping only. Place names get U+2011 (non-breaking hyphen) so that
"Saint‑Étienne" never wraps at its hyphen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import current_app, render_template

from complaints import offences, online
from complaints.cases import identity_of
from complaints.models import KINDS, STATUSES, Case

NON_BREAKING_HYPHEN = "\u2011"


def fonts_only_fetcher(allowed: dict[str, Path]):
    """A WeasyPrint URL fetcher that serves only ``allowed`` (URL -> font file) and refuses every other URL.

    (Built on first use: importing WeasyPrint loads Pango, which the rest of the portal does not need.)
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class FontsOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            path = allowed.get(url)
            if path is None:
                raise ValueError("URL refusée par le récépissé")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "font/woff2"})

    return FontsOnlyFetcher(allowed_protocols=("file",), allow_redirects=False, timeout=1)


def _fonts() -> dict[str, Path]:
    """``file://`` URL -> path of Marianne Regular and Bold (fingerprinted file names in the vendored DSFR)."""
    folder = Path(current_app.root_path) / "static" / "vendor" / "dsfr" / "fonts"
    found = {}
    for face in ("Regular", "Bold"):
        matches = sorted(folder.glob(f"Marianne-{face}.*.woff2")) or sorted(folder.glob(f"Marianne-{face}.woff2"))
        if matches:
            found[face] = matches[0].resolve()
    return found


def place_text(text: str | None) -> str:
    """A place name whose hyphens never break a line."""
    return (text or "").replace("-", NON_BREAKING_HYPHEN)


def render_html(case: Case, unit, generated_at: datetime | None = None) -> str:
    fonts = _fonts()
    identity = identity_of(case) if case.identity else None
    unit_name = unit.name if unit else case.unit_id
    return render_template(
        "complaints/receipt.html", case=case, unit=unit, unit_name=place_text(unit_name),
        unit_place=place_text(f"{unit.postcode} {unit.commune}" if unit else ""), identity=identity,
        sections=online.describe(case.details, None) if case.kind == "plainte_en_ligne" else [],
        offence=offences.label(case.offence), kind=KINDS.get(case.kind, case.kind),
        status=STATUSES.get(case.status, case.status), created=case.created_at,
        generated=generated_at or datetime.now(UTC), place_text=place_text,
        font_urls={face: path.as_uri() for face, path in fonts.items()},
    )


def render_document(case: Case, unit, generated_at: datetime | None = None):
    """The laid-out WeasyPrint document (its pages and boxes), before it is written as PDF."""
    from weasyprint import HTML

    fetcher = fonts_only_fetcher({path.as_uri(): path for path in _fonts().values()})
    html = render_html(case, unit, generated_at)
    # base_url: relative URLs resolve to nothing the fetcher allows.
    return HTML(string=html, base_url="about:blank", url_fetcher=fetcher).render()


def render_pdf(case: Case, unit, generated_at: datetime | None = None) -> bytes:
    return render_document(case, unit, generated_at).write_pdf()
