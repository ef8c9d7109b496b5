"""Static files of the widget and the console: content-hashed names, precompressed, cached.

Every file of a folder is read once, when the web service starts. Its name gets the first
12 hex digits of its SHA-256 (`widget.css` -> `widget.1f0c2a9be3d4.css`): a page that asks
for that name may keep the answer for a year (`immutable`), because new content gets a new
name. The plain name still answers, with `no-cache`: that is the embed URL of the widget
(`/widget/widget.js`, the loader, which names the hashed files) and what an older page asks.
The ETag is the content's hash, so it is the same on every checkout and every replica, unlike
Starlette's StaticFiles (modification time and size).

Each file is kept as is, gzip (level 9) and brotli (quality 11), compressed once here rather
than on every request by a middleware; the answer follows the browser's Accept-Encoding.
HTML pages are not compressed: the console's carry a CSRF token next to text a client can
write, which is what BREACH needs to read a secret through compressed lengths.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import brotli
from starlette.responses import Response

HASH_DIGITS = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
SERVED = tuple(TYPES)
# best first; identity is always acceptable unless the browser refuses it, which none does
PREFERRED = ("br", "gzip")


@dataclass(frozen=True)
class Asset:
    """One file: its hashed name, type, and its bodies by content coding."""

    name: str
    versioned: str
    media_type: str
    digest: str
    bodies: Mapping[str, bytes]

    def etag(self, coding: str) -> str:
        return f'"{self.digest}-{coding}"'


def versioned_name(name: str, digest: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"


def compressed(body: bytes) -> dict[str, bytes]:
    bodies = {"identity": body}
    for coding, packed in (("gzip", gzip.compress(body, 9, mtime=0)), ("br", brotli.compress(body, quality=11))):
        if len(packed) < len(body):  # a tiny or already compressed file stays as it is
            bodies[coding] = packed
    return bodies


def accepted_codings(header: str) -> dict[str, float]:
    """Accept-Encoding as {coding: q}; a malformed weight counts as 0 (refused)."""
    weights: dict[str, float] = {}
    for part in header.split(",")[:20]:  # a browser names three or four; more is noise
        coding, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:7])
            except ValueError:
                weight = 0.0
        if coding:
            weights[coding.strip().lower()] = weight
    return weights


def choose_coding(asset: Asset, accept_encoding: str) -> str:
    weights = accepted_codings(accept_encoding)
    for coding in PREFERRED:
        if coding in asset.bodies and weights.get(coding, weights.get("*", 0.0)) > 0:
            return coding
    return "identity"


def etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip() for tag in if_none_match.split(",")[:50])
    return any(tag.removeprefix("W/") == etag for tag in tags)


class Assets:
    """The servable files of one folder (sub-folders included), published under `prefix`.

    `rewrite` may change a file's text once its siblings' hashed names are known (the widget's
    loader names them); such a file is served under its plain name only.
    """

    def __init__(self, folder: Path, prefix: str, rewrite: Callable[[str, Assets], str | None] | None = None) -> None:
        self.prefix = prefix
        self.by_name: dict[str, Asset] = {}
        self.by_versioned: dict[str, Asset] = {}
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in SERVED)
        rewritten: dict[str, str] = {}
        for path in files:
            self._add(path.relative_to(folder).as_posix(), path.read_bytes())
        if rewrite:
            for name in list(self.by_name):
                text = rewrite(name, self)
                if text is not None:
                    rewritten[name] = text
            for name, text in rewritten.items():
                self._add(name, text.encode("utf-8"), versioned=False)

    def _add(self, name: str, body: bytes, versioned: bool = True) -> None:
        digest = hashlib.sha256(body).hexdigest()[:HASH_DIGITS]
        suffix = Path(name).suffix
        media_type = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        asset = Asset(name, versioned_name(name, digest), media_type, digest, compressed(body))
        previous = self.by_name.get(name)
        if previous:
            self.by_versioned.pop(previous.versioned, None)
        self.by_name[name] = asset
        if versioned:
            self.by_versioned[asset.versioned] = asset

    def url(self, name: str) -> str:
        """The hashed URL of `name` (KeyError for a file that is not there: a typo fails at once)."""
        return self.prefix + self.by_name[name].versioned

    def response(self, path: str, headers: Mapping[str, str], head: bool = False) -> Response:
        """The answer to GET (or HEAD) `prefix + path`: 404 for anything not in the folder."""
        asset = self.by_versioned.get(path)
        cache = IMMUTABLE
        if asset is None:
            asset, cache = self.by_name.get(path), REVALIDATE
        if asset is None:
            return Response("file inesistente", status_code=404, media_type="text/plain; charset=utf-8")
        coding = choose_coding(asset, headers.get("accept-encoding", ""))
        common = {"ETag": asset.etag(coding), "Cache-Control": cache, "Vary": "Accept-Encoding"}
        if etag_matches(headers.get("if-none-match", ""), asset.etag(coding)):
            return Response(status_code=304, headers=common)
        body = asset.bodies[coding]
        if coding != "identity":
            common["Content-Encoding"] = coding
        response = Response(b"" if head else body, media_type=asset.media_type, headers=common)
        response.headers["Content-Length"] = str(len(body))
        return response
