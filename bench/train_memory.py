"""Peak resident memory of a full training (issue 15, goal 4): `rasa train --force` as
bot/ops/train.py runs it, into a temporary directory (models/ is untouched), without the cache.

    python -m bench.train_memory
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "bot.rasa_main",
            "train",
            "--force",
            "--config",
            str(PROJECT_ROOT / "config.yml"),
            "--domain",
            str(PROJECT_ROOT / "domain.yml"),
            "--data",
            str(PROJECT_ROOT / "data"),
            "--out",
            out,
        ]
        env = service_environment()
        env["RASA_CACHE_DIRECTORY"] = str(Path(out) / "cache")  # a cold training cache
        started = time.monotonic()
        subprocess.run(  # noqa: S603 - our own command
            command,
            cwd=Path(PROJECT_ROOT),
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(f"full training (rasa train --force, no cache): {elapsed:.0f} s, peak RSS {peak_kib / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
