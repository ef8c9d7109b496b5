"""One typed settings object, read once from the environment.

Precedence: a variable set by the caller wins over `.env`, which wins over the defaults here
(pydantic's BaseSettings already works that way). Every service of the project imports
`get_settings()`; nothing else reads `os.environ` for configuration.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseSettings
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of every process. Field names map to upper-case environment variables."""

    # Ports of the contract (../shared/design/contracts.md), each overridable.
    rasa_port: int = 5005
    action_port: int = 5055
    billing_port: int = 8000
    web_port: int = 8080
    bind_host: str = "127.0.0.1"

    # Empty means: `make run` generates a random token for this run and prints it.
    rasa_api_token: str = ""

    # Embedded default: SQLite under var/. Any SQLAlchemy URL works (PostgreSQL in production).
    tracker_store_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
    # true: the Rasa server runs exactly as Rasa ships it — Rasa's command line and its own SQL
    # tracker store on a SQLite TRACKER_STORE_URL, without the project's fixes (bot/rasa_main.py,
    # bot/rasa_stores.py). Only the load benchmark's baseline ("one default Rasa process") uses it.
    rasa_stock: bool = False

    # What the bot tells a customer who reports a fault. The defaults are sample values:
    # the operator sets the distributors' real numbers for its service area.
    emergency_number_electricity: str = "800 900 800"
    emergency_number_gas: str = "800 900 700"
    call_centre_number: str = "800 123 456"
    call_centre_hours: str = "dal lunedì al venerdì dalle 8:30 alle 18:00, il sabato dalle 8:30 alle 13:00"
    # Issue 13, the FAQ answers (utter_faq/*): the operator's own addresses. Sample values: the
    # operator sets its real customer-area and offers pages and where customers write to.
    customer_area_url: str = "https://www.esempio-energia.it/area-clienti"
    offers_url: str = "https://www.esempio-energia.it/offerte"
    written_contact: str = (
        "dal modulo contatti dell'Area Clienti, via email a servizio.clienti@esempio-energia.it "
        "o per PEC a servizio.clienti@pec.esempio-energia.it"
    )

    # Billing backend. The service token protects every endpoint but /health and /openapi.json;
    # `make run` generates both secrets for the run when they are not set.
    billing_database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'billing.db'}"
    billing_api_token: str = ""
    billing_token_secret: str = ""
    billing_url: str = ""  # empty: http://127.0.0.1:{billing_port}
    customer_token_minutes: int = 60  # twice a session (domain.yml): carried while it lives (actions/session.py)
    verify_max_failures: int = 5
    verify_window_minutes: int = 15
    # Identity checks per client (the action's X-Client-Id: one conversation) in the same window,
    # across customer codes: fewer than verify_max_failures, so one conversation can neither
    # lock a customer out alone nor walk through customer codes. Idempotency-Key answers are
    # kept this long, then purged by age.
    verify_client_max_failures: int = 3
    idempotency_retention_hours: int = 48
    # Issue 12, bill copies: how long a signed download link of a bill's PDF works (minutes), and
    # where customers reach the web service that serves it (empty: http://127.0.0.1:WEB_PORT).
    # The links are signed with a key derived from BILLING_TOKEN_SECRET (bot/billing/links.py).
    bill_link_minutes: int = 10
    public_web_url: str = ""

    # Trust boundary (docs/security.md). Empty secrets: `make run` generates them for the run
    # (bot/ops launchers); `make run-prod` refuses to start without them.
    # REST channel: a server-to-server channel; every request needs `Authorization: Bearer` this.
    rest_channel_token: str = ""
    # Rasa -> action server: the action server answers only requests carrying this token.
    action_server_token: str = ""
    # Key of the opaque, channel-specific conversation ids (HMAC of a WhatsApp number, signed
    # socket.io session ids).
    conversation_id_secret: str = ""
    # A customer message longer than this (characters) gets a polite request to shorten it and
    # is not stored; a request body over max_request_bytes gets 413 (Rasa and nginx).
    max_message_chars: int = 2000
    max_request_bytes: int = 65536
    # Demo mode: the demo site's `/?login=NNNNNN` signs customer-area logins for any code. Off by
    # default; `make run-prod` refuses to start with it.
    demo_mode: bool = False
    # Origins allowed to call the Rasa server from a browser (comma-separated; empty: the web
    # service's own origin only).
    cors_origins: str = ""

    # Website: the widget trusts a customer-area login through a signed token (HS256 JWT,
    # claim `sub` = customer code), checked by the billing backend with this secret.
    customer_area_jwt_secret: str = ""
    # Claims every customer-area token must carry (bot/customer_area.py): the utility's customer
    # area signs with this issuer and audience, and a token issued (`iat`) longer ago than the
    # maximum age is refused even when its `exp` is later.
    customer_area_jwt_issuer: str = "area-clienti"
    customer_area_jwt_audience: str = "assistente"
    customer_area_jwt_max_age_hours: int = 12
    # Where browsers reach the Rasa server's socket.io channel (empty: http://127.0.0.1:RASA_PORT).
    public_rasa_url: str = ""

    # Support team: opening hours ("mon-fri 08:30-18:00; sat 08:30-13:00", Europe/Rome) and the
    # average minutes an agent spends on a conversation (for the expected wait).
    support_hours: str = "mon-fri 08:30-18:00; sat 08:30-13:00"
    support_minutes_per_conversation: int = 5
    # Agent desk (issue 14): a taken ticket without an agent reply for this many minutes goes back
    # to the queue; how often the console's event streams (SSE) look for changes, in seconds.
    support_unanswered_minutes: int = 10
    console_push_interval_seconds: float = 0.5
    # Console sessions; cookies marked Secure when the console is served over HTTPS.
    console_session_hours: int = 10
    console_secure_cookies: bool = False
    # Where the console reaches Rasa's HTTP API (empty: http://127.0.0.1:RASA_PORT).
    rasa_url: str = ""
    # Console login throttling (bot/console/throttle.py), kept in the support database so that
    # every worker shares it. After the free failures of an account (or of a client address),
    # each further failure closes the door for a delay that starts at the backoff and doubles up
    # to the maximum; an account is locked after console_lockout_failures consecutive failures,
    # until a supervisor unlocks it. A client's count is forgotten after a window without failures.
    console_login_free_failures: int = 3
    console_client_free_failures: int = 10
    console_login_backoff_seconds: int = 2
    console_login_backoff_max_seconds: int = 900
    console_lockout_failures: int = 10
    console_client_window_minutes: int = 60
    # Addresses of reverse proxies whose X-Forwarded-For the web service believes (comma-separated).
    # Empty: none; the client address is the connection's, so a client cannot pick its own
    # address to escape the per-client login throttle.
    web_forwarded_allow_ips: str = ""

    # Conversations older than this are purged by `python -m bot.console.retention purge`.
    retention_days: int = 365
    # Console at scale (issue 17, docs/console-scale.md): review page size (default and most a
    # request may ask), how far a count goes before it says "more than", how many conversations
    # an export may hold without a date range, and the purge's batch and time budget per run.
    console_page_size: int = 50
    console_page_max: int = 200
    # counting 10,001 rows cost 20-320 ms of PostgreSQL at 300,000 conversations (docs/console-scale.md)
    console_count_cap: int = 1000
    console_export_max_undated: int = 10000
    purge_batch: int = 500
    purge_time_budget_seconds: float = 60.0

    # Support database (WhatsApp deliveries and contacts; handoff tickets; conversation summaries).
    support_database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'support.db'}"

    # Production profile (`make run-prod`, bot/ops/run_prod.py): the PostgreSQL server its
    # databases are created on when the *_DATABASE_URL above are not PostgreSQL URLs; Rasa's
    # Redis lock store; how long a conversation lock lives (Rasa reads TICKET_LOCK_LIFETIME: longer
    # than the slowest turn, docs/deployment.md).
    prod_postgres_url: str = "postgresql://postgres@127.0.0.1:5432"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 1
    redis_key_prefix: str = "assistente"  # letters and digits only (Rasa refuses others)
    ticket_lock_lifetime: int = 60

    # Who feeds the conversation summaries the console reviews. false (embedded profile): the
    # console folds the tracker store's new events itself before answering. true (production
    # profile): `python -m bot.support.broker_consumer` folds what Rasa publishes on RabbitMQ.
    broker_feeds_summaries: bool = False
    # RabbitMQ, where Rasa's pika event broker publishes (endpoints-prod.yml) and the consumer reads;
    # the host may also be an amqp:// URL, as for Rasa.
    rabbitmq_host: str = "127.0.0.1"
    rabbitmq_user: str = "guest"
    rabbitmq_password: str = "guest"  # noqa: S105 - RabbitMQ's local default; make run-prod refuses it
    rabbitmq_queue: str = "assistente_events"
    # true: the tracker store publishes one message per save, {"sender_id", "events": [...]}
    # (a turn's dozen events in one message; measured under `make load`, docs/deployment.md "Load"); false:
    # Rasa's own format, one message per event, for consumers that expect it.
    # The summary consumer reads both.
    broker_message_per_save: bool = True
    # Issue 15 (bot/tracker_cache.py, docs/performance.md): conversations each Rasa process keeps
    # in memory between turns, validated against the tracker store; 0 turns the cache off.
    tracker_cache_size: int = 500

    # WhatsApp Cloud API channel. All four credentials, or none (channel disabled).
    whatsapp_verify_token: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_access_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    # WHATSAPP_PHONE_NUMBER_ID may list several business numbers (comma-separated): each
    # customer is answered from the number they wrote to; the first is the default.
    # The approved re-engagement template sent once when the 24-hour customer-service window
    # is closed; its body has one parameter, which carries the start of the waiting reply
    # (docs/whatsapp.md). Empty: replies wait, unannounced, until the customer writes again.
    whatsapp_template_name: str = ""
    whatsapp_template_language: str = "it"
    # How long (ms) a customer's message waits for earlier messages of the same customer still
    # in flight in other webhook calls, so that they are processed in the customer's order.
    whatsapp_order_wait_ms: int = 1000

    # The machine's PostgreSQL, for tests of the PostgreSQL path (a database is created per run).
    test_postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"

    # The business clock (Europe/Rome). Empty: today. A date (YYYY-MM-DD) fixes "today" for
    # demos and tests, so that dated rules (e.g. the 2020 relief campaign) can be exercised.
    business_date: str = ""
    # BUSINESS_TIME=21:00 fixes the hour in Rome as well (a demo or test of the greeting by the hour)
    business_time: str = ""

    # Training and evaluation.
    models_dir: Path = PROJECT_ROOT / "models"
    var_dir: Path = PROJECT_ROOT / "var"

    class Config:
        env_file = str(PROJECT_ROOT / ".env")
        env_file_encoding = "utf-8"

    @property
    def billing_base_url(self) -> str:
        return self.billing_url or f"http://127.0.0.1:{self.billing_port}"

    @property
    def web_public_url(self) -> str:
        return (self.public_web_url or f"http://127.0.0.1:{self.web_port}").rstrip("/")

    @property
    def rasa_api_url(self) -> str:
        return self.rasa_url or f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa_public_url(self) -> str:
        return self.public_rasa_url or f"http://127.0.0.1:{self.rasa_port}"

    @property
    def allowed_origins(self) -> list[str]:
        """Browser origins allowed to reach the Rasa server (CORS_ORIGINS, or by default the web
        service's own origins and the public Rasa URL's, where nginx serves both)."""
        configured = [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]
        if configured:
            return configured
        public = urlsplit(self.rasa_public_url)
        return list(
            dict.fromkeys(
                [
                    f"http://127.0.0.1:{self.web_port}",
                    f"http://localhost:{self.web_port}",
                    f"{public.scheme}://{public.netloc}",
                ]
            )
        )

    @property
    def action_server_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    def process_environment(self) -> dict[str, str]:
        """Variables the child processes need (endpoints.yml interpolates some of them)."""
        env = {
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "ACTION_SERVER_URL": self.action_server_url,
            "TRACKER_STORE_URL": self.tracker_store_url,
            "BILLING_URL": self.billing_base_url,
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        if self.rasa_stock:
            env["STOCK_TRACKER_DB"] = make_url(self.tracker_store_url).database or ""
        return env


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings()
