"""The setup pieces a fresh machine depends on: finding Python 3.10, settings precedence."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings

FIND_PYTHON = PROJECT_ROOT / "scripts" / "find-python.sh"


def _fake_python(directory: Path, name: str, version: str) -> Path:
    """A stand-in interpreter that reports `version` to the version check."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    major, minor = version.split(".")
    path.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *version_info*) [ "{major}.{minor}" = 3.10 ] || [ "{major}.{minor}" = 3.9 ] && exit 0; exit 1;; '
        f'*executable*) echo "{path}";; esac\n'
    )
    path.chmod(0o755)
    return path


def _run_finder(path_dirs, home: Path, **env):
    environment = {"PATH": os.pathsep.join(str(d) for d in path_dirs) + os.pathsep + "/usr/bin:/bin", "HOME": str(home)}
    environment.update(env)
    return subprocess.run(["bash", str(FIND_PYTHON)], env=environment, capture_output=True, text=True)


def test_finds_python_310_on_path(tmp_path):
    good = _fake_python(tmp_path / "bin", "python3.10", "3.10")
    result = _run_finder([tmp_path / "bin"], home=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == str(good)


def test_finds_python_310_in_pyenv_versions_without_pyenv_on_path(tmp_path):
    good = _fake_python(tmp_path / ".pyenv" / "versions" / "3.10.13" / "bin", "python3.10", "3.10")
    result = _run_finder([tmp_path / "empty"], home=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == str(good)


def test_refuses_311_with_a_clear_message(tmp_path):
    _fake_python(tmp_path / "bin", "python3.10", "3.11")  # a mislabelled 3.11
    result = _run_finder([tmp_path / "bin"], home=tmp_path)
    assert result.returncode == 1
    assert "Rasa 3.6" in result.stderr and "PYTHON=" in result.stderr


def test_explicit_python_wins(tmp_path):
    chosen = _fake_python(tmp_path / "custom", "python", "3.10")
    _fake_python(tmp_path / "bin", "python3.10", "3.10")
    result = _run_finder([tmp_path / "bin"], home=tmp_path, PYTHON=str(chosen))
    assert result.stdout.strip() == str(chosen)


def test_caller_environment_wins_over_dotenv_and_defaults(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("RASA_PORT=6100\nCALL_CENTRE_NUMBER=800 000 111\n")
    monkeypatch.setenv("RASA_PORT", "6200")
    settings = Settings(_env_file=str(dotenv))
    assert settings.rasa_port == 6200  # caller
    assert settings.call_centre_number == "800 000 111"  # .env
    assert settings.action_port == 5055  # default

