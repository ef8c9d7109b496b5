"""A Rasa replica of the production profile SIGKILLed while customers are talking to it (a short
`make load` run): no conversation is lost, no message is lost, duplicated or reordered, every
message has its reply. Fails under CI=true when PostgreSQL, Redis or RabbitMQ is missing."""

from __future__ import annotations

from bot.ops.run_prod import check_services, production_environment
from bot.settings import Settings
from bench.load import run_profile
from tests.harness.services import service_missing


def test_killing_a_replica_mid_run_loses_no_conversation(tmp_path, monkeypatch):
    problems = check_services(production_environment(Settings(_env_file=None)))
    if problems:
        service_missing("; ".join(problems), RuntimeError("production services"))
    # the dead replica's lock ticket holds its conversation until it expires: shorter here
    monkeypatch.setenv("TICKET_LOCK_LIFETIME", "10")
    _, checked = run_profile("production-kill", users=8, seconds=20, kill_after=6, out=tmp_path)
    assert checked["messages"] > 50 and checked["conversations"] > 10
    assert checked["given_up"] == 0
    assert [checked[k] for k in ("lost", "duplicated", "out_of_order", "silent", "unsent")] == [0, 0, 0, 0, 0]
