"""Query-string parameters checked the same way everywhere, with French errors."""

from __future__ import annotations

from portal.errors import UserError


def page_number(raw: str | None) -> int:
    """``?page=`` as a positive integer; 1 when absent."""
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise UserError(400, "Le paramètre page doit être un nombre entier supérieur ou égal à 1.")
    return int(raw)
