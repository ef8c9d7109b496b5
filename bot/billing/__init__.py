"""The billing backend: an HTTP service (FastAPI, OpenAPI at /openapi.json) over SQLAlchemy.

Routes in the package api/ (one module per resource, docs/billing.md), persistence in models.py
and db.py, demo data in seed.py, schema changes in migrations/ (Alembic). Business rules come
from bot.rules; "today" from bot.clock.
"""
