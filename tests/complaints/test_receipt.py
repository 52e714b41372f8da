"""The PDF receipt: real WeasyPrint output, owner only, nothing fetched but the local fonts."""

from __future__ import annotations

import re
import zlib

import pytest

from complaints import receipt


def inflated(pdf: bytes) -> bytes:
    """The PDF with its streams inflated (WeasyPrint compresses them, object streams included)."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(chunks)


def laid_out_text(document) -> str:
    """Every text WeasyPrint laid out on the pages (its document API: pages, then boxes)."""
    found = []

    def walk(box):
        if hasattr(box, "text") and isinstance(box.text, str):
            found.append(box.text)
        for child in getattr(box, "children", []) or []:
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return " ".join(found)


def test_the_receipt_is_a_pdf_with_the_reference_for_its_owner_only(app, citizen, other_citizen, db_session,
                                                                      make_case, unit_id):
    with app.app_context():
        reference = make_case(db_session, citizen.account_id, unit_id).reference
        db_session.commit()
    response = citizen.get(f"/mon-espace/dossiers/{reference}/recepisse.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="recepisse-{reference}.pdf"'
    # The document's title (PDF metadata, UTF-16 hexadecimal) carries the reference.
    assert ("Récépissé de plainte " + reference).encode("utf-16-be").hex().encode() in inflated(response.data)
    assert other_citizen.get(f"/mon-espace/dossiers/{reference}/recepisse.pdf").status_code == 404


def test_user_text_is_escaped_and_no_url_is_fetched(app, db_session, citizen, make_case, unit_id):
    from maps.models import Station

    hostile = ('<a rel="attachment" href="file:///etc/passwd">x</a><img src="http://127.0.0.1:9/p.png">'
               '<link rel="stylesheet" href="file:///etc/passwd">')
    with app.app_context(), app.test_request_context():
        case = make_case(db_session, citizen.account_id, unit_id, details={"narrative": hostile, "items": [],
                                                                          "commune_label": "Saint-Étienne (42)"})
        unit = db_session.get(Station, unit_id)
        html = receipt.render_html(case, unit)
        assert "&lt;a rel=&#34;attachment&#34;" in html and '<a rel="attachment"' not in html
        assert "Saint\u2011Étienne" in html
        fetcher = receipt.fonts_only_fetcher({})
        for url in ("file:///etc/passwd", "http://127.0.0.1:9/p.png", "data:text/plain,x"):
            with pytest.raises(ValueError):
                fetcher.fetch(url)
        document = receipt.render_document(case, unit)
        text = laid_out_text(document)
        assert case.reference in text and "Récépissé de dépôt de plainte" in text and '<a rel="attachment"' in text
        pdf = document.write_pdf()
        assert b"root:" not in inflated(pdf) and b"/EmbeddedFile" not in inflated(pdf)
        db_session.expunge_all()


def test_the_receipt_embeds_only_the_marianne_fonts(app):
    with app.app_context():
        fonts = receipt._fonts()
        assert set(fonts) == {"Regular", "Bold"}
        fetcher = receipt.fonts_only_fetcher({p.as_uri(): p for p in fonts.values()})
        response = fetcher.fetch(fonts["Regular"].as_uri())
        assert response.url == fonts["Regular"].as_uri()
