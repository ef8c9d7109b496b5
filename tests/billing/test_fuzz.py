"""Schemathesis over /openapi.json: generated requests never get a 500 (bounded run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))


def test_schemathesis_finds_no_server_error(backend, tmp_path):
    mario = backend.verify()
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [str(schemathesis), "run", f"{backend.url}/openapi.json",
         "-H", f"Authorization: Bearer {backend.token}", "-H", f"X-Customer-Token: {mario}",
         "--checks", "not_a_server_error", "--max-examples", str(MAX_EXAMPLES), "--seed", "20261126"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in result.stdout
