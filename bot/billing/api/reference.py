"""Reference data, the same for every customer: bonus sociale rules by day, the stores.

The stores (issue 16): by town, province or position as before, and `near=` any comune or CAP
(bot/places.py resolves it, misspellings included) with the hours of any day (`on=`: public
holidays and short days from bot/billing/opening.py). The new fields are optional additions:
a client of the first contract reads the same `stores` list.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from bot import clock, places
from bot.billing import opening, schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.presenters import store_out
from bot.billing.models import Store
from bot.folding import fold_alnum
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES)
EARTH_RADIUS_KM = 6371.0
MAX_CANDIDATES = 5


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


def place_out(place: places.Place) -> schemas.PlaceOut:
    return schemas.PlaceOut(
        name=place.name,
        province=place.province,
        province_code=place.province_code,
        region=place.region,
        has_position=place.lat is not None,
    )


def nearest_stores(found: list[Store], place: places.Place) -> tuple[list[tuple[Store, float | None]], str]:
    """The stores ordered for a customer in `place`, and how: by distance when the comune has a
    position, else those of its province, else of its region, else by distance from its
    province's centre."""
    if place.lat is not None and place.lon is not None:
        lat, lon = place.lat, place.lon
        measured: list[tuple[Store, float | None]] = [(s, distance_km(lat, lon, s.lat, s.lon)) for s in found]
        return sorted(measured, key=lambda p: p[1] or 0.0), "distance"
    province: list[tuple[Store, float | None]] = [
        (s, None) for s in found if s.province_code.upper() == place.province_code
    ]
    if province:
        return province, "province"
    region: list[tuple[Store, float | None]] = [
        (s, None) for s in found if places.region_of_province(s.province_code) == place.region
    ]
    if region:
        return region, "region"
    centre = places.province_centre(place.province_code)
    if centre is None:
        return [(s, None) for s in found], "none"
    from_centre: list[tuple[Store, float | None]] = [(s, distance_km(*centre, s.lat, s.lon)) for s in found]
    return sorted(from_centre, key=lambda p: p[1] or 0.0), "province_centre"


def store_on_day(store: Store, day: date, distance: float | None) -> schemas.StoreOut:
    hours = store.opening_hours or {}
    today = opening.hours_on(hours, store.province_code, clock.today())
    return store_out(store, today, opening.hours_on(hours, store.province_code, day), distance)


@router.get("/v1/stores", response_model=schemas.StoresResponse, tags=["stores"])
def stores(
    session: SessionDep,
    city: str | None = Query(None, max_length=80),
    province: str | None = Query(None, max_length=80),
    lat: float | None = Query(None, ge=-90, le=90),
    lon: float | None = Query(None, ge=-180, le=180),
    limit: int = Query(5, ge=1, le=100),
    near: str | None = Query(
        None, max_length=80, description="any comune (a letter or two off is fine) or CAP: the nearest stores"
    ),
    on: date | None = Query(None, description="the day whose hours open_on gives; default: the business day"),
) -> Any:
    if (lat is None) != (lon is None):
        raise ApiError(422, "invalid_request", "lat and lon go together.")
    if near is not None and (lat is not None or city or province):
        raise ApiError(422, "invalid_request", "near goes alone (without city, province, lat and lon).")
    day = on or clock.today()
    found: list[Store] = list(session.execute(select(Store).order_by(Store.city, Store.name)).scalars())
    if near is not None:
        resolution = places.resolve(near)
        place = resolution.place
        if place is None:
            return schemas.StoresResponse(
                stores=[],
                on=day,
                matched=resolution.how or None,
                candidates=[place_out(p) for p in resolution.places[:MAX_CANDIDATES]],
            )
        ranked, how = nearest_stores(found, place)
        return schemas.StoresResponse(
            stores=[store_on_day(s, day, d) for s, d in ranked[:limit]],
            on=day,
            place=place_out(place),
            matched=resolution.how,
            nearest_by=how,
        )
    if city:
        wanted = fold_alnum(city)
        found = [s for s in found if fold_alnum(s.city) == wanted]
    if province:
        wanted = fold_alnum(province)
        found = [s for s in found if wanted in (fold_alnum(s.province), fold_alnum(s.province_code))]
    if lat is None or lon is None:
        return schemas.StoresResponse(stores=[store_on_day(s, day, None) for s in found[:limit]], on=day)
    near_by = [store_on_day(s, day, distance_km(lat, lon, s.lat, s.lon)) for s in found]
    # by the distance shown (rounded to 100 m); ties keep the city and name order
    near_by.sort(key=lambda r: r.distance_km or 0.0)
    return schemas.StoresResponse(stores=near_by[:limit], on=day)
