"""Every setting is documented: each field of bot/settings.py, and each variable bot/ or actions/
reads from the environment by name, has a row in docs/configuration.md's table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings

CONFIGURATION = PROJECT_ROOT / "docs" / "configuration.md"


def table_names(markdown: str) -> set[str]:
    """The variables named in the first column of the table's rows (a row may name several)."""
    names: set[str] = set()
    for line in markdown.splitlines():
        cells = line.split("|")
        if line.startswith("| `") and len(cells) > 2:
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[1]))
    return names


def environment_reads(path: Path) -> set[str]:
    """Names read with os.environ.get("X"), os.getenv("X") or os.environ["X"] (not assignments)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = ast.unparse(node.func)
            if called in ("os.environ.get", "os.getenv"):
                found.add(str(node.args[0].value))
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
        ):
            found.add(str(node.slice.value))
    return found


def test_the_table_reads_first_column_names_only():
    markdown = "| variable | default | what |\n|---|---|---|\n| `A_B`, `C` | 1 | see `D_E` |\nText `F`.\n"
    assert table_names(markdown) == {"A_B", "C"}


def test_the_scan_finds_reads_and_ignores_assignments(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import os\n"
        "a = os.environ.get('READ_ONE')\n"
        "b = os.getenv('READ_TWO', 'x')\n"
        "c = os.environ['READ_THREE']\n"
        "os.environ['WRITTEN'] = '1'\n"
        "d = environ.get('HTTP_ORIGIN')  # a request's WSGI/ASGI environ, not the process's\n"
    )
    assert environment_reads(module) == {"READ_ONE", "READ_TWO", "READ_THREE"}


def test_every_setting_has_a_row_in_the_configuration_table():
    documented = table_names(CONFIGURATION.read_text(encoding="utf-8"))
    missing = sorted(name.upper() for name in Settings.__fields__ if name.upper() not in documented)
    assert not missing, f"settings missing from docs/configuration.md's table: {missing}"


def test_every_variable_read_from_the_environment_has_a_row_in_the_configuration_table():
    documented = table_names(CONFIGURATION.read_text(encoding="utf-8"))
    read = {
        f"{path.relative_to(PROJECT_ROOT)}: {name}"
        for folder in ("bot", "actions")
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        for name in environment_reads(path)
        if name not in documented
    }
    assert not read, f"variables read but missing from docs/configuration.md's table: {sorted(read)}"
