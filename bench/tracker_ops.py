"""CPU time of the per-action tracker work that grew with the session (issue 15): Rasa's replaying
`DialogueStateTracker.copy` against bot/tracker_copy.py's, and Rasa's whole action call body
against bot/action_window.py's (building and encoding it; the action server parses it again).

    python -m bench.tracker_ops [--events 2400]

In-process, on the recorded conversation (tests/support/recorded_conversation.json) repeated until
the tracker has `--events` events; CPU time (`time.process_time`), so other work on the machine
matters little.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import action_window, tracker_copy, tracker_history
from bot.action_client import dumps
from bot.settings import PROJECT_ROOT
from tests.support.recorded import EVENTS


def cpu_ms(work: Callable[[], object], repeat: int = 10) -> float:
    start = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - start) / repeat * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2400)
    args = parser.parse_args(argv)
    tracker_history.install()
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    again = [e for e in EVENTS if e["event"] not in ("session_started", "restart")]
    tracker = DialogueStateTracker("bench", domain.slots)
    while len(tracker.events) < args.events:
        for event in deserialise_events(again):
            tracker.update(event)
    action = RemoteAction("action_request_human", EndpointConfig("http://127.0.0.1:1/webhook"))
    whole = action_window.RASA_ACTION_CALL_FORMAT(action, tracker, domain)
    windowed = action_window.action_call_format(action, tracker, domain)
    print(f"tracker of {len(tracker.events)} events; CPU ms per call")
    print(
        f"copy: Rasa {cpu_ms(lambda: tracker_copy.RASA_COPY(tracker)):.2f}, "
        f"bot/tracker_copy.py {cpu_ms(lambda: tracker_copy.copy_tracker(tracker)):.2f}"
    )
    rasa_body = cpu_ms(lambda: dumps(action_window.RASA_ACTION_CALL_FORMAT(action, tracker, domain)))
    our_body = cpu_ms(lambda: dumps(action_window.action_call_format(action, tracker, domain)))
    print(
        f"action call body built and encoded: Rasa {rasa_body:.2f} ({len(dumps(whole)) // 1024} KiB), "
        f"bot/action_window.py {our_body:.2f} ({len(dumps(windowed)) // 1024} KiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
