"""Issue 12, a bill copy on the website: the web service serves a bill's PDF by the signed,
short-lived link the assistant gives, after the billing backend (a real process) checked it; an
expired or altered link gets an Italian page (410 / 403), never the PDF."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bot.billing.links import SALT
from bot.settings import Settings
from bot.web.app import create_app
from tests.billing.conftest import Backend, start_backend


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    started = start_backend(tmp_path_factory.mktemp("billing"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture()
def web(backend: Backend, tmp_path: Path) -> TestClient:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        support_database_url=f"sqlite:///{tmp_path / 'support.db'}",
        billing_url=backend.url,
        billing_api_token=backend.token,
    )
    return TestClient(create_app(settings))


def link_token(backend: Backend, bill_id: str = "F100001-01") -> str:
    answer = requests.get(
        f"{backend.url}/v1/bills/{bill_id}/download-link", headers=backend.headers(backend.verify()), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def test_a_fresh_link_serves_the_bill_pdf(web: TestClient, backend: Backend) -> None:
    answer = web.get(f"/bolletta/{link_token(backend)}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf" and answer.content.startswith(b"%PDF-")
    assert answer.headers["cache-control"] == "no-store"


def test_a_tampered_link_gets_an_italian_page(web: TestClient, backend: Backend) -> None:
    payload, stamp, signature = link_token(backend).split(".")
    other = URLSafeTimedSerializer("x", salt=SALT).dumps("F100002-01").split(".")[0]
    for forged in (f"{other}.{stamp}.{signature}", f"{payload}.{stamp}.{signature[::-1]}", "x" * 300, "<script>"):
        answer = web.get(f"/bolletta/{forged}")
        assert answer.status_code in (403, 404), forged  # 404: not even a path of the site
        if answer.status_code == 403:
            assert "Link non valido" in answer.text and "%PDF" not in answer.text
            assert answer.headers["content-type"].startswith("text/html")


def test_an_expired_link_gets_410_and_how_to_get_a_new_one(web: TestClient, backend: Backend) -> None:
    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 11 * 60  # the default lifetime is 10 minutes

    secret = backend.env["BILLING_TOKEN_SECRET"]
    expired = URLSafeTimedSerializer(secret, salt=SALT, signer=Old).dumps("F100001-01")
    answer = web.get(f"/bolletta/{expired}")
    assert answer.status_code == 410
    assert "Link scaduto" in answer.text and "Chieda di nuovo la copia della bolletta" in answer.text


def test_the_backend_down_is_an_apology_not_a_500(backend: Backend, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        support_database_url=f"sqlite:///{tmp_path / 'support.db'}",
        billing_url="http://127.0.0.1:9",  # nothing listens there
        billing_api_token=backend.token,
    )
    answer = TestClient(create_app(settings)).get(f"/bolletta/{link_token(backend)}")
    assert answer.status_code == 503 and "Servizio non disponibile" in answer.text
