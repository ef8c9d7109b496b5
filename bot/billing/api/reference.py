"""Reference data, the same for every customer: bonus sociale rules by day, the stores."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from bot import clock
from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.presenters import store_out
from bot.billing.models import Store
from bot.folding import fold_alnum
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES)
# Store.opening_hours keys, indexed by date.weekday()
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.asin(math.sqrt(a))


@router.get("/v1/bonus-sociale/rules", response_model=schemas.BonusSocialeRulesOut, tags=["bonus sociale"])
def bonus_sociale(on: date | None = Query(None, description="default: the business day")) -> Any:
    day = on or clock.today()
    try:
        found = rules.bonus_sociale_rules(day)
    except LookupError:
        raise ApiError(404, "no_rules", f"No bonus sociale rules recorded for {day.isoformat()}.") from None
    return schemas.BonusSocialeRulesOut(
        on=found.on,
        isee_threshold_eur=float(found.isee_threshold_eur),
        large_family_isee_threshold_eur=float(found.large_family_isee_threshold_eur),
        large_family_min_children=found.large_family_min_children,
        automatic=found.automatic,
        how=found.how,
        disagio_fisico=found.disagio_fisico,
        deadlines=list(found.deadlines),
    )


@router.get("/v1/stores", response_model=schemas.StoresResponse, tags=["stores"])
def stores(
    session: SessionDep,
    city: str | None = Query(None, max_length=80),
    province: str | None = Query(None, max_length=80),
    lat: float | None = Query(None, ge=-90, le=90),
    lon: float | None = Query(None, ge=-180, le=180),
    limit: int = Query(5, ge=1, le=100),
) -> Any:
    if (lat is None) != (lon is None):
        raise ApiError(422, "invalid_request", "lat and lon go together.")
    found: list[Store] = list(session.execute(select(Store).order_by(Store.city, Store.name)).scalars())
    if city:
        wanted = fold_alnum(city)
        found = [s for s in found if fold_alnum(s.city) == wanted]
    if province:
        wanted = fold_alnum(province)
        found = [s for s in found if wanted in (fold_alnum(s.province), fold_alnum(s.province_code))]
    weekday = WEEKDAYS[clock.today().weekday()]
    if lat is None or lon is None:
        return schemas.StoresResponse(stores=[store_out(s, weekday, None) for s in found[:limit]])
    near = [store_out(s, weekday, distance_km(lat, lon, s.lat, s.lon)) for s in found]
    # by the distance shown (rounded to 100 m); ties keep the city and name order
    near.sort(key=lambda r: r.distance_km or 0.0)
    return schemas.StoresResponse(stores=near[:limit])
