"""HTTP routes of the billing backend (the contract: docs/contracts.md; the layout: docs/billing.md).

Every endpoint but /health and the OpenAPI documents needs the service token; customer-scoped
ones also need the short-lived customer token from /v1/identity/verify and answer 403 when it
belongs to someone else. Errors are JSON `{"error": {"code", "message"}}`, never a 500 for
bad input. POSTs honour `Idempotency-Key`: a retry gets the first answer, nothing is created
twice. Run: `uvicorn --factory bot.billing.api:create_app`.

Modules: `deps` (settings, database, tokens, ownership), `errors`, `idempotency`, `presenters`
(rows to bodies), and the routes by resource: `identity`, `bills`, `plans` (deferrals and
installment plans), `reference` (bonus sociale rules, stores), and self-service (issue 12):
`readings`, `payments`, `complaints`, `documents` (bill copies as PDF and their signed links),
`explanations` (a bill against the earlier ones), `direct_debit` (SEPA mandates),
`paperless` (bills by e-mail).
"""

from __future__ import annotations

from fastapi import FastAPI

from bot import clock
from bot.billing.api import (
    bills,
    complaints,
    direct_debit,
    documents,
    explanations,
    identity,
    paperless,
    payments,
    plans,
    readings,
    reference,
)
from bot.billing.api.deps import Backend
from bot.billing.api.errors import install_error_handlers
from bot.billing.db import make_engine, session_factory, upgrade_schema
from bot.settings import Settings, get_settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The billing API; the database is upgraded to the latest migration on creation."""
    settings = settings or get_settings()
    if not settings.billing_api_token or not settings.billing_token_secret:
        raise RuntimeError("BILLING_API_TOKEN and BILLING_TOKEN_SECRET must be set (make run generates them).")
    upgrade_schema(settings.billing_database_url)
    engine = make_engine(settings.billing_database_url)

    app = FastAPI(
        title="Billing backend",
        version="1.0.0",
        description="Bills, deferrals, installment plans, late interest, bonus sociale and stores "
        "of the utility's customers. Money in euro cents; dates ISO 8601; answers for the business day.",
    )
    app.state.backend = Backend(settings=settings, engine=engine, sessions=session_factory(engine))
    install_error_handlers(app)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "business_date": clock.today().isoformat()}

    # self-service (issue 12): readings, payments, complaints
    for router in (
        identity.router,
        bills.router,
        plans.router,
        reference.router,
        readings.router,
        payments.router,
        complaints.router,
        documents.router,
        explanations.router,
        direct_debit.router,
        paperless.router,
    ):
        app.include_router(router)
    return app
