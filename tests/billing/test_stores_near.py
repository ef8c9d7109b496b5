"""Issue 16: the stores near any comune or CAP, and their hours on a named day (real backend).

The business day is Thursday 26 November 2026 (tests/billing/conftest.py).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("shared_backend")


def near(backend, town: str, **params) -> dict:
    response = backend.get("/v1/stores", near=town, **params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_town_without_a_store_gets_the_nearest_ones_by_distance(shared_backend):
    found = near(shared_backend, "Montepulciano", limit=3)
    assert found["place"]["name"] == "Montepulciano" and found["place"]["province_code"] == "SI"
    assert found["matched"] == "exact" and found["nearest_by"] == "distance"
    distances = [s["distance_km"] for s in found["stores"]]
    assert len(distances) == 3 and distances == sorted(distances)
    # Montepulciano is ~40 km from Arezzo and Siena, none of the stores is in town
    assert {s["city"] for s in found["stores"][:2]} == {"Arezzo", "Siena"} and 30 < distances[0] < 50


@pytest.mark.parametrize(
    ("town", "first_city", "region"),
    [
        ("Pesaro", "Fano", "Marche"),  # another province of the same region
        ("Civitanova Marche", "Macerata", "Marche"),
        ("Terni", "Perugia", "Umbria"),
        ("Sulmona", "L'Aquila", "Abruzzo"),
        ("Livorno", "Empoli", "Toscana"),  # a Tuscan province without stores
        ("Bologna", "Montemurlo", "Emilia-Romagna"),  # a region without stores
    ],
)
def test_nearest_store_across_provinces_and_regions(shared_backend, town, first_city, region):
    found = near(shared_backend, town, limit=2)
    assert found["place"]["region"] == region
    assert found["stores"][0]["city"] == first_city, [s["city"] for s in found["stores"]]


def test_a_cap_is_resolved_to_its_comune(shared_backend):
    found = near(shared_backend, "53045", limit=1)
    assert found["matched"] == "cap" and found["place"]["name"] == "Montepulciano"
    assert found["stores"][0]["distance_km"] > 30


@pytest.mark.parametrize(
    ("typo", "town"), [("Arrezzo", "Arezzo"), ("Sena", "Siena"), ("Montepulciamo", "Montepulciano")]
)
def test_a_town_misspelled_by_a_letter_or_two_is_found(shared_backend, typo, town):
    found = near(shared_backend, typo, limit=1)
    assert found["matched"] == "fuzzy" and found["place"]["name"] == town


def test_the_town_with_the_store_comes_first(shared_backend):
    found = near(shared_backend, "Arezzo", limit=1)
    assert found["stores"][0]["name"] == "Store Arezzo" and found["stores"][0]["distance_km"] < 3


def test_homonyms_and_unknown_names_give_no_stores_but_candidates(shared_backend):
    samone = near(shared_backend, "Samone")
    assert samone["stores"] == [] and samone["place"] is None
    assert {c["province_code"] for c in samone["candidates"]} == {"TO", "TN"}
    nowhere = near(shared_backend, "Xyzzyville")
    assert nowhere["stores"] == [] and nowhere["place"] is None and nowhere["candidates"] == []


def test_a_comune_without_a_position_falls_back_to_its_province_then_region(shared_backend):
    # merged comuni (2015-2019) have no GeoNames position
    province = near(shared_backend, "Abetone Cutigliano")
    assert province["nearest_by"] == "province" and {s["city"] for s in province["stores"]} == {"Pistoia"}
    region = near(shared_backend, "Stazzema")  # Lucca: no store in the province, some in Tuscany
    assert region["nearest_by"] == "region" and {s["province"] for s in region["stores"]} <= {
        "Prato",
        "Firenze",
        "Pistoia",
        "Arezzo",
        "Siena",
        "Grosseto",
    }
    elsewhere = near(shared_backend, "Pecetto Torinese", limit=1)
    assert elsewhere["nearest_by"] == "province_centre" and elsewhere["stores"][0]["distance_km"] > 250


def test_hours_on_a_named_day(shared_backend):
    saturday = shared_backend.get("/v1/stores", city="Grosseto", on="2026-11-28").json()
    assert saturday["on"] == "2026-11-28"
    store = saturday["stores"][0]
    assert store["open_on"] == [{"opens": p[0], "closes": p[1]} for p in store["opening_hours"]["sat"]]
    assert store["open_today"] == [{"opens": p[0], "closes": p[1]} for p in store["opening_hours"]["thu"]]
    sunday = shared_backend.get("/v1/stores", city="Grosseto", on="2026-11-29").json()["stores"][0]
    assert sunday["open_on"] == [] and sunday["special_day"] is None


def test_public_holidays_close_the_stores_and_short_days_shorten_them(shared_backend):
    immacolata = shared_backend.get("/v1/stores", city="Prato", on="2026-12-08", limit=1).json()["stores"][0]
    assert immacolata["open_on"] == [] and immacolata["special_day"] == "Immacolata Concezione"
    easter_monday = shared_backend.get("/v1/stores", city="Siena", on="2027-03-29").json()["stores"][0]
    assert easter_monday["open_on"] == [] and easter_monday["special_day"] == "Lunedì dell'Angelo"
    eve = shared_backend.get("/v1/stores", city="Prato", on="2026-12-24", limit=1).json()["stores"][0]
    assert eve["special_day"] == "Vigilia di Natale"
    assert eve["open_on"] and all(p["closes"] <= "12:30" for p in eve["open_on"])
    # San Giovanni, Florence's patron saint: Florence closed, Prato open
    florence = shared_backend.get("/v1/stores", city="Firenze", on="2026-06-24").json()["stores"][0]
    prato = shared_backend.get("/v1/stores", city="Prato", on="2026-06-24", limit=1).json()["stores"][0]
    assert florence["open_on"] == [] and florence["special_day"] == "San Giovanni Battista"
    assert prato["open_on"] and prato["special_day"] is None


def test_near_goes_alone_and_is_bounded(shared_backend):
    assert shared_backend.get("/v1/stores", near="Siena", lat=43.3, lon=11.3).status_code == 422
    too_long = shared_backend.get("/v1/stores", near="x" * 81)
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "invalid_request"
    assert shared_backend.get("/v1/stores", city="Siena", on="domani").status_code == 422
