"""Query-string parameters checked the same way everywhere, with French errors."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from portal.errors import UserError

# ASCII digits only: str.isdigit() accepts "²", which int() refuses.
DIGITS = re.compile(r"[0-9]{1,6}")


def small_integer(raw: str) -> int | None:
    """A non-negative integer of at most six ASCII digits, or None."""
    return int(raw) if DIGITS.fullmatch(raw) else None


def page_number(raw: str | None) -> int:
    """``?page=`` as a positive integer; 1 when absent."""
    if raw is None or raw == "":
        return 1
    page = small_integer(raw)
    if page is None or page < 1:
        raise UserError(400, "Le paramètre page doit être un nombre entier supérieur ou égal à 1.")
    return page


def repeated_parameter(args: MultiDict) -> str | None:
    """``?q=a&q=b``: which one was meant is a guess the portal does not make; the French reason, or None."""
    repeated = sorted(name for name, values in args.lists() if len(values) > 1)
    if repeated:
        return f"Le paramètre {repeated[0]} est donné plusieurs fois ; donnez-le une seule fois."
    return None
