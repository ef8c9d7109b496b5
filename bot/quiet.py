"""Readable service logs: other libraries' deprecation notices are not shown.

Imported first (before Rasa, rasa-sdk or Sanic) by the Rasa server's and the action server's
entry points, bot/rasa_main.py and bot/action_server.py. Python shows a DeprecationWarning only
for code run as __main__, but Sanic turns every library's on when it is imported
(`filterwarnings("once", category=DeprecationWarning)` in sanic/app.py), and Rasa adds a
"once" filter for UserWarning, which pyparsing's deprecations also are. Each start of those
services printed a dozen notices (pkg_resources, distutils, pyparsing via matplotlib,
SQLAlchemy 1.4's URL() called by Rasa's tracker store) that nobody running the project can act
on, and that buried its own lines.

Filters are added at the front of a list that any later import may change, so the notices are
dropped where they are shown instead (`warnings.showwarning`, the documented hook): a
DeprecationWarning is dropped unless it was raised in the project's own code (bot/, actions/),
whose deprecations stay visible. Every other warning is shown as before.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TextIO

PROJECT_DIRECTORIES = tuple(str(Path(__file__).resolve().parent.parent / name) + "/" for name in ("bot", "actions"))

_show = warnings.showwarning


def is_shown(category: type[Warning], filename: str) -> bool:
    """Whether a warning of `category` raised in `filename` reaches the log."""
    if not issubclass(category, DeprecationWarning):
        return True
    return str(Path(filename).resolve()).startswith(PROJECT_DIRECTORIES)


def _show_unless_other_libraries_deprecation(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    if is_shown(category, filename):
        _show(message, category, filename, lineno, file, line)


warnings.showwarning = _show_unless_other_libraries_deprecation
