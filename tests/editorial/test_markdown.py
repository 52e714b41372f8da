"""Editors' restricted Markdown: what it renders, and that nothing typed can run in a citizen's browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from catalogue.loader import _text, read_content
from catalogue.markdown import ALLOWED_TAGS, allowed_url
from catalogue.text import blocks
from editorial.markdown import render

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "[x](javascript&colon;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java\\script:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:image/svg+xml,<svg onload=alert(1)>)",
    "![x](https://example.org/x.png)",
    "<iframe src=https://example.org></iframe>",
    "<style>body{display:none}</style>",
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    '[x](https://example.org "titre" onmouseover="alert(1)")',
    '[x](https://example.org "a\\" onmouseover=\\"alert(1)")',
    "[x](https://example.org 'a\" onmouseover=\"alert(1)')",
    "[x](//evil.example/)",
    "[x](/\\evil.example/)",
    "[x](http://example.org)",
    "<details open ontoggle=alert(1)>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "**<b onmouseover=alert(1)>gras</b>**",
    "## <script>alert(1)</script>",
    "- <img src=x onerror=alert(1)>\n- [x](javascript:alert(1))",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<!-- <script>alert(1)</script> -->",
    "`<script>alert(1)</script>`",
    "<scr<script>ipt>alert(1)</script>",
]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def _assert_inert(html: str) -> None:
    """Only the allowed tags, no attribute but an allowed address, a list's start and the heading style."""
    for tag, attrs in _elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert name in {"href", "rel", "start", "class"}, (tag, name, html)
            if name == "href":
                assert allowed_url(value), (value, html)
                assert not re.match(r"\s*(javascript|vbscript|data):", value, re.IGNORECASE)
            if name == "class":
                assert value == "fr-h6"


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_becomes_active_markup(payload):
    html = render(payload)
    assert isinstance(html, Markup)
    _assert_inert(html)
    for tag in ("script", "img", "svg", "iframe", "style", "math", "details"):
        assert f"<{tag}" not in html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payloads_inside_every_construct_stay_inert(payload):
    text = f"## Titre {payload}\n\nParagraphe {payload}\nsuite\n\n- {payload}\n- *{payload}*\n\n1. **{payload}**"
    _assert_inert(render(text))


def test_raw_html_is_shown_as_text():
    assert render("<b>gras</b>") == Markup("<p>&lt;b&gt;gras&lt;/b&gt;</p>\n")


def test_the_allowed_constructs():
    html = render("Un paragraphe\nsur deux lignes.\n\n## Intertitre\n\n- un\n- deux\n\n3. trois\n4. quatre\n\n"
                  "**gras**, *italique*, [Service-Public](https://www.service-public.fr), [le 17](tel:17), "
                  "[écrire](mailto:contact@interieur.gouv.fr), [page du portail](/demarches/cambriolage).")
    assert "<p>Un paragraphe<br>\nsur deux lignes.</p>" in html
    assert '<h3 class="fr-h6">Intertitre</h3>' in html
    assert "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>" in html
    assert '<ol start="3">' in html
    assert "<strong>gras</strong>, <em>italique</em>" in html
    for href in ("https://www.service-public.fr", "tel:17", "mailto:contact@interieur.gouv.fr",
                 "/demarches/cambriolage"):
        assert f'<a href="{href}" rel="noopener noreferrer">' in html


def test_refused_links_stay_visible_as_text():
    for link in ("[x](http://example.org)", "[x](//evil.example)", "[x](javascript:alert(1))", "[x](ftp://a.b)"):
        html = render(link)
        assert "<a" not in html and "[x](" in html


def test_headings_start_below_the_section_heading_and_never_skip_a_level():
    assert render("### Seul") == Markup('<h3 class="fr-h6">Seul</h3>\n')
    html = render("## Un\n\n### Deux\n\n#### Trois\n\n##### Quatre\n\n###### Cinq")
    assert [tag for tag, _ in _elements(html)] == ["h3", "h4", "h5", "h6", "h6"]
    assert render("# Titre").startswith('<h3 class="fr-h6">')


def test_empty_text_renders_nothing():
    assert render(None) == Markup("") and render("  \n ") == Markup("")


class _Blocks(HTMLParser):
    """(kind, text) of each paragraph, list item and heading, line breaks kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[tuple[str, str]] = []
        self.text = ""
        self.list_kind = ""

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            self.list_kind = tag
        elif tag in ("p", "li", "h3", "h4", "h5", "h6"):
            self.text = ""
        elif tag == "br":
            self.text += "\n"

    def handle_endtag(self, tag):
        if tag in ("p", "li", "h3", "h4", "h5", "h6"):
            kind = "h" if tag.startswith("h") else "p" if tag == "p" else self.list_kind
            self.out.append((kind, re.sub(r"\s*\n\s*", "\n", self.text).strip()))

    def handle_data(self, data):
        self.text += data


def _from_light_text(text: str) -> list[tuple[str, str]]:
    out = []
    for block in blocks(text):
        if block.kind in ("ul", "ol"):
            out.extend((block.kind, line) for line in block.lines)
        else:
            out.append(("h" if block.kind == "h" else "p", "\n".join(block.lines)))
    return out


def test_every_procedure_of_the_content_files_renders_as_its_light_text_did():
    """The YAML texts were written for ``catalogue.text.blocks``: Markdown keeps every paragraph, line break,
    list item and heading, with the same words."""
    _, procedures, _ = read_content()
    compared = 0
    for procedure in procedures:
        for field in ("for_whom", "conditions", "steps", "documents", "delays_cost"):
            text = _text(procedure.get(field))
            if not text:
                continue
            parser = _Blocks()
            parser.feed(render(text))
            assert parser.out == _from_light_text(text), (procedure["slug"], field)
            compared += 1
    assert compared > 60
