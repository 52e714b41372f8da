"""Highlighting the words a query matched, HTML-safe by construction."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from search.analysis import WORD_PATTERN, index_terms, is_stop

_WORD_RE = re.compile(WORD_PATTERN)
_OPEN, _CLOSE = Markup("<mark>"), Markup("</mark>")


def highlight_words(text: str, terms: frozenset[str]) -> Markup:
    """Escape ``text`` and wrap in <mark> each word whose analysed form the query searched.

    Only the two constant tags are markup; every character of ``text`` goes
    through ``escape``, so a title or summary can never inject HTML.
    """
    if not text:
        return Markup("")
    out: list[Markup] = []
    last = 0
    for match in _WORD_RE.finditer(text):
        word = match.group(0).lower()
        if terms and not is_stop(word) and terms.intersection(index_terms(word)):
            out.append(escape(text[last : match.start()]))
            out.append(_OPEN + escape(match.group(0)) + _CLOSE)
            last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
