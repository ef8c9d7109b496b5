"""The command lines of the project's services, shared by `make run` and the tests.

One place says how each process starts, so the tests exercise exactly what `make run` runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings

BIN = Path(sys.executable).parent


def service_environment(
    settings: Settings | None = None,
    base: Mapping[str, str] | None = None,
    *,
    unset: Iterable[str] = (),
    **overrides: str,
) -> dict[str, str]:
    """The environment of a child process, built the same way by the launchers and the tests.

    `base` (default: this process's environment) with the names in `unset` removed and
    `overrides` on top; then, only where still missing, what `settings` says the services need
    (a launcher started by a test derives its ports and URLs itself: pass no settings). The
    project package is always importable (Rasa loads the project's tracker store, the action
    server the actions); SQLAlchemy 1.4's 2.0-migration banner and TensorFlow's start-up
    notices are off.
    """
    env = dict(os.environ if base is None else base)
    for name in unset:
        env.pop(name, None)
    env.update(overrides)
    if settings is not None:
        for key, value in settings.process_environment().items():
            env.setdefault(key, value)
    paths = [str(PROJECT_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # TensorFlow's C++ notices (no CUDA driver, no TensorRT, oneDNN is on, CPU instructions)
    # print before Rasa configures any logging: level 2 keeps its errors only. A caller's value
    # wins, e.g. TF_CPP_MIN_LOG_LEVEL=0 to see them all.
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _uvicorn(factory: str, host: str, port: int, workers: int = 1) -> list[str]:
    # No access log: URLs carry customer codes and phone numbers. No websockets: none served
    # (and Rasa pins a `websockets` older than uvicorn's).
    return [
        str(BIN / "uvicorn"),
        "--factory",
        factory,
        "--host",
        host,
        "--port",
        str(port),
        "--ws",
        "none",
        "--no-access-log",
        "--workers",
        str(workers),
    ]


def billing_server_command(settings: Settings, workers: int = 1) -> list[str]:
    return _uvicorn("bot.billing.api:create_app", settings.bind_host, settings.billing_port, workers)


def web_server_command(settings: Settings) -> list[str]:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: any local client could then
    # pick its own address and escape the console's per-client login throttle.
    proxies = settings.web_forwarded_allow_ips.strip()
    trust = ["--forwarded-allow-ips", proxies] if proxies else ["--no-proxy-headers"]
    return _uvicorn("bot.web.app:create_app", settings.bind_host, settings.web_port) + trust


def action_server_command(settings: Settings, port: int | None = None) -> list[str]:
    # Not `rasa run actions`: it listens on 0.0.0.0 without authentication. bot.action_server
    # runs the same rasa-sdk app on loopback and requires ACTION_SERVER_TOKEN (from the
    # environment, so that `ps` does not show it).
    return [
        sys.executable,
        "-m",
        "bot.action_server",
        "--actions",
        "actions",
        "--port",
        str(port or settings.action_port),
    ]


def rasa_server_command(
    settings: Settings,
    model: Path,
    port: int | None = None,
    endpoints: str = "endpoints.yml",
    interface: str | None = None,
    *,
    stock_api_token: str = "",
) -> list[str]:
    """Rasa's command line. The API token is not on it (`ps` and /proc/PID/cmdline show a
    command line to every local user): bot.rasa_main reads RASA_API_TOKEN from the environment.
    Only the load benchmark's baseline (RASA_STOCK, Rasa as shipped) takes it as --auth-token."""
    # bot.rasa_main is Rasa's command line with the project's fixes to Rasa installed first
    rasa = [str(BIN / "rasa")] if settings.rasa_stock else [sys.executable, "-m", "bot.rasa_main"]
    if settings.rasa_stock:
        endpoints = "eval/endpoints-stock.yml"
    return [
        *rasa,
        "run",
        "--enable-api",
        *(["--auth-token", stock_api_token] if settings.rasa_stock else []),
        "--interface",
        interface or settings.bind_host,
        "--port",
        str(port or settings.rasa_port),
        "--model",
        str(model),
        "--credentials",
        str(PROJECT_ROOT / "credentials.yml"),
        "--endpoints",
        str(PROJECT_ROOT / endpoints),
        # browsers may call the server only from the configured origins (CORS_ORIGINS)
        "--cors",
        *settings.allowed_origins,
    ]
