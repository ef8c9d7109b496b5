"""The widget's and the console's files on the wire: compressed as the browser accepts, cached
for a year under content-hashed names, `no-cache` on the loader, ETags from the content."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import brotli

from bot.web.app import STATIC, WIDGET_FILES, widget_loader
from bot.web.assets import IMMUTABLE, Assets

BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@dataclass
class Answer:
    status: int
    headers: Message
    content: bytes  # as sent on the wire (urllib does not decode gzip or br)

    @property
    def text(self) -> str:
        return self.content.decode()


def get(url: str, method: str = "GET", **headers: str) -> Answer:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    request = urllib.request.Request(url, headers=named, method=method)  # noqa: S310 - the test's loopback URL
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return Answer(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:  # 304, 404: an answer too
        return Answer(error.code, error.headers, error.read())


def decoded(answer: Answer) -> bytes:
    coding = answer.headers.get("Content-Encoding", "identity")
    return {"br": brotli.decompress, "gzip": gzip.decompress, "identity": bytes}[coding](answer.content)


def test_the_loader_is_compressed_revalidated_and_names_hashed_files(site: str) -> None:
    loader = get(site + "/widget/widget.js", **BROWSER)
    assert loader.status == 200 and loader.headers["Content-Encoding"] == "br"
    assert loader.headers["Cache-Control"] == "no-cache" and loader.headers["Vary"] == "Accept-Encoding"
    text = decoded(loader).decode()
    assert int(loader.headers["Content-Length"]) == len(loader.content) < len(text) / 2
    hashed = re.search(r"var ASSETS = (\{.*?\});", text)
    assert hashed and "widget.css" not in hashed.group(1)
    names = re.findall(r'"([^"]+\.[0-9a-f]{12}\.(?:css|js))"', hashed.group(1))
    assert len(names) == len(WIDGET_FILES)

    for name in names:
        for accept, coding in (("br", "br"), ("gzip", "gzip"), ("identity", None), ("br;q=0, gzip", "gzip")):
            answer = get(f"{site}/widget/{name}", **{"Accept-Encoding": accept})
            assert answer.status == 200 and answer.headers["Cache-Control"] == IMMUTABLE, name
            assert answer.headers.get("Content-Encoding") == coding, (name, accept)
            plain = (STATIC / re.sub(r"\.[0-9a-f]{12}\.", ".", name)).read_bytes()
            assert decoded(answer) == plain  # the same file, whatever the coding
            assert answer.headers["ETag"].startswith(f'"{hashlib.sha256(plain).hexdigest()[:12]}-')

    again = get(site + "/widget/widget.js", **BROWSER, If_None_Match=loader.headers["ETag"])
    assert again.status == 304 and again.content == b"" and again.headers["ETag"] == loader.headers["ETag"]


def test_console_files_are_hashed_compressed_and_keep_the_csp(site: str) -> None:
    page = get(site + "/console/login", **BROWSER)
    # pages are not compressed: a CSRF token next to text a client writes is what BREACH reads
    assert "Content-Encoding" not in page.headers
    urls = re.findall(r'(?:href|src)="(/console/static/[^"]+)"', page.text)
    assert urls and all(re.search(r"\.[0-9a-f]{12}\.(css|js)$", url) for url in urls)
    for url in urls:
        answer = get(site + url, **BROWSER)
        assert answer.headers["Cache-Control"] == IMMUTABLE and answer.headers["Content-Encoding"] == "br"
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    # the plain name still answers (an open tab after a deploy), revalidated
    assert get(site + "/console/static/console.js").headers["Cache-Control"] == "no-cache"


def test_unknown_files_and_traversal_get_404_and_the_favicon_is_there(site: str) -> None:
    for path in (
        "/widget/nope.js",
        "/widget/..%2Fapp.py",
        "/widget/../app.py",
        "/widget/widget.000000000000.js",
        "/console/static/..%2Froutes%2Faccess.py",
        "/widget/vendor/socket.io-LICENSE",
    ):
        assert get(site + path).status == 404, path
    for path in ("/favicon.ico", "/favicon.svg"):
        icon = get(site + path, **BROWSER)
        assert icon.status == 200 and icon.headers["Content-Type"] == "image/svg+xml", path
        assert decoded(icon).startswith(b"<svg")
    head = get(site + "/widget/widget.js", "HEAD", **BROWSER)
    assert head.status == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0


def test_etags_come_from_the_content_not_the_checkout(tmp_path: Path) -> None:
    """Two checkouts (other modification times) give the same names and ETags."""
    first = Assets(STATIC, "/widget/", rewrite=widget_loader)
    copy = tmp_path / "static"
    shutil.copytree(STATIC, copy)
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    second = Assets(copy, "/widget/")
    for name in WIDGET_FILES.values():
        assert first.by_name[name].versioned == second.by_name[name].versioned
        assert first.by_name[name].etag("br") == second.by_name[name].etag("br")


def test_a_malformed_accept_encoding_gets_the_plain_file(site: str) -> None:
    for header in ("br;q=abc", "gzip;q=0, br;q=0", "x" * 4000, ",,,;;;", "*;q=0"):
        answer = get(site + "/widget/widget.js", **{"Accept-Encoding": header})
        assert answer.status == 200 and "Content-Encoding" not in answer.headers, header
