"""Editors' restricted Markdown, rendered to HTML that cannot run anything in a citizen's browser.

What editors may write: paragraphs (a single line break stays a line break),
"## " headings, "- " and "1. " lists, **bold**, *italics* and links to https,
mailto: and tel: addresses or to the portal's own pages ("/demarches/…").
Two locks, either enough alone: markdown-it-py parses with raw HTML off and a
link validator that knows only those addresses, then nh3 (Rust's ammonia)
keeps only an explicit allow-list of tags, attributes and URL schemes.

Headings are relative: the text's highest heading becomes an h3, under the
page's own section heading (h2), and levels are never skipped ("### " alone
is an h3 too, as it was with the light text of ``catalogue.text``).
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

from portal.redirects import local_path

# The section heading of the page is an h2: the text's own headings start one level below.
TOP_HEADING = 3
ALLOWED_TAGS = {"p", "br", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "a"}
# "*": none on every tag (ammonia would otherwise keep "lang" and "title" everywhere).
ALLOWED_ATTRIBUTES = {"*": set(), "a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"https", "mailto", "tel"}
ALLOWED_URL = re.compile(r"^(?:https://[^\s/\\]|mailto:[^\s]|tel:[+\d(])", re.IGNORECASE)


def allowed_url(url: str) -> bool:
    """An address an editor may link to: https, mailto:, tel:, or a page of the portal ("/demarches/…",
    never "//host" nor "/\\host", which browsers read as another site)."""
    url = url.strip()
    return bool(ALLOWED_URL.match(url) or local_path(url))


def _relative_headings(state: StateCore) -> None:
    levels = [int(token.tag[1]) for token in state.tokens if token.type == "heading_open"]
    if not levels:
        return
    shift = TOP_HEADING - min(levels)
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"


def _parser() -> MarkdownIt:
    # "zero" enables nothing: every construct allowed is named here. html False: "<b>" is text.
    md = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": False, "typographer": False})
    md.enable(["paragraph", "heading", "list", "newline", "emphasis", "link", "escape", "entity"])
    md.validateLink = allowed_url
    md.core.ruler.push("relative_headings", _relative_headings)
    return md


def _keep_allowed_href(tag: str, attribute: str, value: str) -> str | None:
    # Never raises: nh3 reports a callback's exception as an unraisable error.
    if tag == "a" and attribute == "href":
        return value if allowed_url(value) else None
    return value


_MD = _parser()
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_keep_allowed_href,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer",
    # The DSFR's small heading style, as the light text's subheadings had.
    set_tag_attribute_values={tag: {"class": "fr-h6"} for tag in ("h3", "h4", "h5", "h6")},
)


def render(text: str | None) -> Markup:
    """Restricted Markdown → sanitised HTML, safe to insert in a page (the ``markdown`` Jinja filter)."""
    if not text or not text.strip():
        return Markup("")
    return Markup(_CLEANER.clean(_MD.render(text)))
