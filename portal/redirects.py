"""Where the portal may send a visitor back to: a path on this site, nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path of this site, else None.

    Refused: anything with a scheme or a host, "//host" and "/\\host" (which
    browsers read as another host), backslashes anywhere, and control or
    whitespace characters (Werkzeug strips some, turning "/\\t/host" into "//host").
    """
    if not value or len(value) > MAX_LENGTH or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
