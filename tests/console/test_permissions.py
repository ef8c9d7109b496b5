"""Every console route refuses an anonymous request; POSTs also need the CSRF token."""

from __future__ import annotations

import pytest
import requests

from bot.console.auth import create_user
from bot.db import session_factory
from bot.ops.services import service_environment, web_server_command
from bot.settings import Settings
from bot.support.db import make_engine, upgrade_schema
from bot.web.app import create_app
from tests.harness.processes import free_port, start_logged, stop, wait_for

PASSWORD = "una-password-lunga"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{tmp / 'support.db'}"
    upgrade_schema(url)
    create_user(session_factory(make_engine(url)), "giulia", PASSWORD, "agent")
    settings = Settings(_env_file=None, web_port=free_port())
    env = service_environment(SUPPORT_DATABASE_URL=url, WEB_PORT=str(settings.web_port), RASA_API_TOKEN="x")
    process = start_logged(web_server_command(settings), env, tmp / "web.log")
    try:
        wait_for(f"http://127.0.0.1:{settings.web_port}/health", process, tmp / "web.log", timeout=60)
        yield f"http://127.0.0.1:{settings.web_port}"
    finally:
        stop(process)


def console_routes():
    app = create_app(Settings(_env_file=None, support_database_url="sqlite:///:memory:"))
    for route in app.routes:
        if route.path.startswith("/console") and route.path not in ("/console/login", "/console/static/{name}"):
            for method in route.methods:
                yield method, route.path.replace("{shown_id}", "c1").replace("{ticket_id}", "1")


@pytest.mark.parametrize("method, path", list(console_routes()))
def test_anonymous_requests_are_refused(web, method, path):
    answer = requests.request(method, web + path, json={}, allow_redirects=False, timeout=10)
    assert answer.status_code in (401, 303), (method, path, answer.status_code)
    if answer.status_code == 303:
        assert answer.headers["location"] == "/console/login"
    html = requests.request(method, web + path, headers={"Accept": "text/html"}, allow_redirects=False, timeout=10)
    assert html.status_code in (401, 303)


def form_token(session, web):
    page = session.get(web + "/console/login", timeout=10).text
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def test_wrong_password_is_refused_and_the_right_one_opens_a_session(web):
    session = requests.Session()
    wrong = session.post(web + "/console/login", allow_redirects=False, timeout=10,
                         data={"username": "giulia", "password": "sbagliata!!", "csrf_token": form_token(session, web)})
    assert wrong.status_code == 401 and "Nome utente o password non validi" in wrong.text
    assert session.get(web + "/console/api/queue", timeout=10).status_code == 401
    right = session.post(web + "/console/login", allow_redirects=False, timeout=10,
                         data={"username": "giulia", "password": PASSWORD, "csrf_token": form_token(session, web)})
    assert right.status_code == 303 and "httponly" in right.headers["set-cookie"].lower()
    assert session.get(web + "/console/api/queue", timeout=10).json() == {"tickets": []}


def test_posts_need_the_csrf_token(web):
    session = requests.Session()
    session.post(web + "/console/login", timeout=10,
                 data={"username": "giulia", "password": PASSWORD, "csrf_token": form_token(session, web)})
    refused = session.post(web + "/console/api/tickets/1/take", timeout=10)
    assert refused.status_code == 403
    page = session.get(web + "/console/", timeout=10).text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    missing = session.post(web + "/console/api/tickets/999/take", headers={"X-CSRF-Token": token}, timeout=10)
    assert missing.status_code == 404


def test_the_console_never_compares_secrets_with_equality():
    """Tokens are compared with hmac.compare_digest (constant time), never with == or !=: a
    timing difference would let a guess be improved byte by byte."""
    import ast
    from pathlib import Path

    import bot.console

    for path in Path(bot.console.__file__).parent.rglob("*.py"):  # the routes package too
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                left = node.left
                if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) and left.value.id[:1].isupper():
                    continue  # a SQL condition on a model's column (a lookup by the token's hash)
                names = [n.attr if isinstance(n, ast.Attribute) else getattr(n, "id", "")
                         for side in [node.left, *node.comparators] for n in ast.walk(side)]
                assert not any("csrf" in name or "token" in name for name in names), f"{path.name}:{node.lineno}"
