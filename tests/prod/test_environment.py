"""The production profile's environment comes from the settings (environment, then .env, then
defaults): no database of the embedded profile leaks into it."""

from __future__ import annotations

from bot.ops.run_prod import production_environment
from bot.settings import Settings


def test_sqlite_defaults_become_databases_on_the_production_server(tmp_path):
    embedded = {f"{name}_url": f"sqlite:///{tmp_path / name}.db"
                for name in ("tracker_store", "billing_database", "support_database")}
    env = production_environment(Settings(_env_file=None, prod_postgres_url="postgresql://pg@db.internal:5433",
                                          **embedded))
    assert env["TRACKER_STORE_URL"] == "postgresql://pg@db.internal:5433/assistente_tracker"
    assert env["BILLING_DATABASE_URL"] == "postgresql://pg@db.internal:5433/assistente_billing"
    assert env["SUPPORT_DATABASE_URL"] == "postgresql://pg@db.internal:5433/assistente_support"
    assert env["BROKER_FEEDS_SUMMARIES"] == "true"


def test_secrets_are_passed_on_never_invented(tmp_path, monkeypatch):
    # a secret the profile generated itself would differ between restarts and hide a missing
    # configuration: only configured values reach the services (unset ones are refused)
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    monkeypatch.delenv("REST_CHANNEL_TOKEN", raising=False)
    env = production_environment(Settings(_env_file=None, rest_channel_token="configured-rest-token-1234"))
    assert env["REST_CHANNEL_TOKEN"] == "configured-rest-token-1234" and "RASA_API_TOKEN" not in env
    # the console reaches Rasa's HTTP API on a replica (nginx does not expose it)
    assert env["RASA_URL"].endswith(f":{Settings(_env_file=None).rasa_port + 1}")


def test_the_callers_settings_win(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("REDIS_HOST=redis.internal\nTICKET_LOCK_LIFETIME=45\nRABBITMQ_QUEUE=events_b\n")
    settings = Settings(_env_file=str(env_file), tracker_store_url="postgresql://rasa@pg.internal/conversations",
                        redis_db=3)
    env = production_environment(settings)
    assert env["TRACKER_STORE_URL"] == "postgresql://rasa@pg.internal/conversations"
    assert (env["REDIS_HOST"], env["REDIS_DB"], env["TICKET_LOCK_LIFETIME"]) == ("redis.internal", "3", "45")
    assert env["RABBITMQ_QUEUE"] == "events_b"
