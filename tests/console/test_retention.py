"""Retention purges old conversations; erasure removes a customer's; both are audited."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from sqlalchemy import func, insert, select

from bot.console.conversations import EVENTS
from bot.console.retention import Retention
from bot.settings import Settings
from bot.support.models import AuditEntry, Ticket


@pytest.fixture
def retention(tmp_path):
    settings = Settings(_env_file=None, tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}",
                        support_database_url=f"sqlite:///{tmp_path / 'support.db'}", retention_days=30)
    keeper = Retention(settings)
    store = keeper.conversations
    EVENTS.create(store.engine)
    now = time.time()

    def conversation(sender, age_days, customer=None):
        at = now - age_days * 86400
        rows = [{"sender_id": sender, "type_name": "user", "timestamp": at, "intent_name": "greet",
                 "data": json.dumps({"event": "user", "text": "ciao", "input_channel": "rest",
                                     "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}})}]
        if customer:
            rows.append({"sender_id": sender, "type_name": "slot", "timestamp": at + 1, "intent_name": None,
                         "data": json.dumps({"event": "slot", "name": "customer_code", "value": customer})})
        with store.engine.begin() as connection:
            connection.execute(insert(EVENTS), rows)

    conversation("old", 40)
    conversation("recent", 2)
    conversation("mario-1", 5, customer="100001")
    conversation("mario-2", 1, customer="100001")
    with keeper.sessions() as session, session.begin():
        session.add(Ticket(conversation_id="old", status="closed", reason="request_human", summary={},
                           created_at=datetime.utcnow()))
    return keeper


def ids(retention):
    return sorted(c.conversation_id for c in retention.conversations.conversations())


def test_purge_removes_only_conversations_older_than_the_limit(retention):
    assert retention.purge() == 1
    assert ids(retention) == ["mario-1", "mario-2", "recent"]
    with retention.sessions() as session:
        assert session.execute(select(func.count()).select_from(Ticket)).scalar_one() == 0
        assert session.execute(select(AuditEntry.action)).scalars().all() == ["purge"]


def test_a_customers_conversations_are_erased_on_request(retention):
    assert retention.erase_customer("100001", actor="supervisore") == 2
    assert ids(retention) == ["old", "recent"]
    with retention.sessions() as session:
        entry = session.execute(select(AuditEntry)).scalar_one()
    assert entry.actor == "supervisore" and entry.action == "erase" and "100001" not in entry.detail
