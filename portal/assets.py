"""Static assets under fingerprinted names, compressed, cached for a year.

Every file of ``static/`` is served at ``/assets/<name>.<hash>.<ext>``, the
hash being the first 12 hex digits of its SHA-256: a new version is a new
URL, so browsers may keep a file forever. Files the vendored stylesheet
references (fonts, icons) already carry their hash in their name
(``scripts/vendor_assets.py``) and are served under it. Text formats are sent
gzip-compressed to browsers that accept it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, request

FINGERPRINT_LENGTH = 12
FINGERPRINTED = re.compile(rf"\.[0-9a-f]{{{FINGERPRINT_LENGTH}}}\.[A-Za-z0-9]+$")
FINGERPRINT_IN_NAME = re.compile(rf"\.[0-9a-f]{{{FINGERPRINT_LENGTH}}}\.(?=[A-Za-z0-9]+$)")
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".webmanifest", ".txt"}
ONE_YEAR = 31_536_000

bp = Blueprint("assets", __name__)


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:FINGERPRINT_LENGTH]


def fingerprinted_name(path: str, data: bytes) -> str:
    """"css/portal.css" -> "css/portal.3f9a0c1d2e4b.css"."""
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        return f"{path}.{fingerprint(data)}"
    return f"{stem}.{fingerprint(data)}.{ext}"


@dataclass
class Asset:
    path: Path
    data: bytes
    mimetype: str
    integrity: str
    _gzip: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gzip is None:
            self._gzip = gzip.compress(self.data, compresslevel=9, mtime=0)
        return self._gzip


class AssetRegistry:
    """Every static file, by logical path and by public (fingerprinted) name."""

    def __init__(self, static_dir: Path) -> None:
        self.by_public: dict[str, Asset] = {}
        self.public_name: dict[str, str] = {}
        self._lock = threading.Lock()
        for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
            logical = path.relative_to(static_dir).as_posix()
            data = path.read_bytes()
            public = logical if FINGERPRINTED.search(logical) else fingerprinted_name(logical, data)
            mimetype = mimetypes.guess_type(logical)[0] or "application/octet-stream"
            if logical.endswith(".webmanifest"):
                mimetype = "application/manifest+json"
            integrity = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
            self.by_public[public] = Asset(path, data, mimetype, integrity)
            self.public_name[logical] = public
            if public == logical:  # already fingerprinted: also known by its plain name
                self.public_name[FINGERPRINT_IN_NAME.sub(".", logical)] = public

    def url(self, logical: str) -> str:
        try:
            return f"/assets/{self.public_name[logical]}"
        except KeyError:
            raise LookupError(f"no static file {logical!r} (run `make setup`?)") from None

    def integrity(self, logical: str) -> str:
        return self.by_public[self.public_name[logical]].integrity

    def response(self, public: str) -> Response:
        asset = self.by_public.get(public)
        if asset is None:
            abort(404)
        compress = (Path(public).suffix in COMPRESSIBLE
                    and "gzip" in request.headers.get("Accept-Encoding", ""))
        if compress:
            with self._lock:
                body = asset.gzipped()
        else:
            body = asset.data
        response = Response(body, mimetype=asset.mimetype)
        if compress:
            response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.set_etag(public)
        return response.make_conditional(request)


def registry() -> AssetRegistry:
    return current_app.extensions["assets"]


def asset_url(logical: str) -> str:
    return registry().url(logical)


def asset_integrity(logical: str) -> str:
    return registry().integrity(logical)


@bp.get("/assets/<path:public>")
def serve(public: str) -> Response:
    return registry().response(public)


def init_app(app: Flask) -> None:
    app.extensions["assets"] = AssetRegistry(Path(app.root_path) / "static")
    app.jinja_env.globals.update(asset_url=asset_url, asset_integrity=asset_integrity)
    app.register_blueprint(bp)
