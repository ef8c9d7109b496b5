"""Billing API of issue 12 in-process (seeded SQLite, business day 2026-11-26): self-readings,
payments and pagoPA notices, written complaints. Every write is sent twice: one effect."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select

from bot.billing.models import Complaint, MeterReading
from tests.billing.inprocess import LAURA, MARIO, Api, error_code

FRANCESCA = ("100006", "RMNFNC90T52A390Z", "F100006-01")  # her meter's window is closed today


def customer_readings(api: Api, supply_id: int) -> int:
    with create_engine(api.url, future=True).connect() as connection:
        query = (
            select(func.count())
            .select_from(MeterReading)
            .where(MeterReading.supply_id == supply_id, MeterReading.source == "customer")
        )
        return int(connection.execute(query).scalar_one())


def meter(api: Api, who: tuple[str, str, str] = MARIO) -> dict:
    answer = api.call("GET", f"/v1/customers/{who[0]}/meters", customer=api.token(who))
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["meters"][0])


def test_meters_show_registers_last_reading_and_window(api: Api) -> None:
    mario = meter(api)
    assert mario["registers"] == ["F1", "F2", "F3"] and mario["unit"] == "kWh" and mario["window_open"]
    assert mario["last_reading"]["registers"] == {"F1": 4210, "F2": 3180, "F3": 5020}
    laura = meter(api, LAURA)
    assert laura["registers"] == ["total"] and laura["unit"] == "m³"


def test_a_reading_is_recorded_once_whatever_the_retries(api: Api) -> None:
    token, supply = api.token(), meter(api)["supply_id"]
    body = {"registers": {"F1": 4300, "F2": 3250, "F3": 5100}}
    first = api.call("POST", f"/v1/supplies/{supply}/readings", customer=token, body=body, key="r-1")
    again = api.call("POST", f"/v1/supplies/{supply}/readings", customer=token, body=body, key="r-1")
    no_key = api.call("POST", f"/v1/supplies/{supply}/readings", customer=token, body=body)
    assert first.status_code == again.status_code == no_key.status_code == 201
    assert first.json() == again.json() == no_key.json()
    assert first.json()["consumed"] == 90 + 70 + 80 and first.json()["used_for_reading_of"] == "2026-11-28"
    assert customer_readings(api, supply) == 1


def test_a_lower_reading_is_refused_and_a_high_one_needs_confirmation(api: Api) -> None:
    token, supply = api.token(LAURA), meter(api, LAURA)["supply_id"]
    lower = api.call("POST", f"/v1/supplies/{supply}/readings", customer=token, body={"registers": {"total": 8000}})
    assert lower.status_code == 422 and error_code(lower) == "reading_lower"
    high = {"registers": {"total": 20_000}}
    refused = api.call("POST", f"/v1/supplies/{supply}/readings", customer=token, body=high)
    assert refused.status_code == 409 and error_code(refused) == "reading_implausible"
    assert customer_readings(api, supply) == 0
    confirmed = {**high, "confirm_high": True}
    for _ in range(2):
        accepted = api.call("POST", f"/v1/supplies/{supply}/readings", customer=token, body=confirmed, key="high")
        assert accepted.status_code == 201
    assert customer_readings(api, supply) == 1


def test_wrong_registers_and_a_closed_window_are_refused_with_their_codes(api: Api) -> None:
    token, supply = api.token(), meter(api)["supply_id"]
    wrong = api.call("POST", f"/v1/supplies/{supply}/readings", customer=token, body={"registers": {"total": 9000}})
    assert wrong.status_code == 422 and error_code(wrong) == "registers_mismatch"
    closed = meter(api, FRANCESCA)
    assert not closed["window_open"] and closed["window_opens"] == "2026-12-09"
    answer = api.call(
        "POST",
        f"/v1/supplies/{closed['supply_id']}/readings",
        customer=api.token(FRANCESCA),
        body={"registers": {"total": 6100}},
    )
    assert answer.status_code == 409 and error_code(answer) == "window_closed"


def test_another_customers_supply_is_forbidden(api: Api) -> None:
    laura_supply = meter(api, LAURA)["supply_id"]
    answer = api.call(
        "POST", f"/v1/supplies/{laura_supply}/readings", customer=api.token(), body={"registers": {"total": 9000}}
    )
    assert answer.status_code == 403


def test_payments_registered_and_the_open_bill_without_one(api: Api) -> None:
    answer = api.call("GET", "/v1/customers/100001/payments", customer=api.token()).json()
    assert [p["method"] for p in answer["payments"]] == ["domiciliazione", "domiciliazione"]
    assert [b["bill_id"] for b in answer["open_bills"]] == ["F100001-01"]
    assert answer["registration_days"]["bonifico"] == 3


def test_payment_notice_for_an_open_bill_only(api: Api) -> None:
    token = api.token()
    notice = api.call("GET", "/v1/bills/F100001-01/payment-notice", customer=token)
    assert notice.status_code == 200 and len(notice.json()["notice_code"]) == 18
    paid = api.call("GET", "/v1/bills/F100001-02/payment-notice", customer=token)
    assert paid.status_code == 409 and error_code(paid) == "already_paid"


def test_a_complaint_gets_one_protocol_and_the_regulated_answer_date(api: Api) -> None:
    token = api.token()
    body = {"category": "fatturazione", "text": "Mi avete addebitato due volte la bolletta di ottobre."}
    first = api.call("POST", "/v1/customers/100001/complaints", customer=token, body=body, key="c-1")
    again = api.call("POST", "/v1/customers/100001/complaints", customer=token, body=body, key="c-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    created = first.json()
    assert created["protocol"].startswith("R2026-") and created["answer_due_on"] == "2026-12-26"
    assert created["answer_days"] == 30 and created["regulation"].startswith("ARERA, TIQV")
    assert api.count(Complaint) == 1


def test_complaint_input_is_bounded(api: Api) -> None:
    token = api.token()
    for body in (
        {"category": "fatturazione", "text": "corto"},
        {"category": "sconosciuta", "text": "Un testo abbastanza lungo."},
        {"category": "altro", "text": "x" * 4001},
    ):
        answer = api.call("POST", "/v1/customers/100001/complaints", customer=token, body=body)
        assert answer.status_code == 422 and error_code(answer) == "invalid_request"
    assert api.count(Complaint) == 0
