"""Run a command and start it again whenever it dies (what systemd's Restart=always does),
so that a crashed Rasa replica comes back while nginx sends its traffic to the other one.
SIGINT/SIGTERM to this process stop the command and end the loop.

    python -m bot.ops.respawn -- rasa run ...
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    stopping = False
    child: subprocess.Popen = None  # type: ignore[assignment]

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        child = subprocess.Popen(command)
        code = child.wait()
        if stopping:
            return code
        print(f"respawn: {command[0]} exited with {code}; starting it again", file=sys.stderr, flush=True)
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
