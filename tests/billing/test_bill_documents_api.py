"""Billing API of issue 12 in-process (seeded SQLite, business day 2026-11-26): a bill's PDF
copy, its signed download link (valid, expired, tampered), and a bill compared with the
earlier ones ("why is this bill so high?")."""

from __future__ import annotations

import re
import time
import zlib

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

from bot.billing.links import SALT
from tests.billing.inprocess import LAURA, MARIO, TOKEN_SECRET, Api, error_code

ANNA = ("100004", "FRRNNA75D45G999S", "F100004-01")  # a conguaglio after three estimated bills
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def pdf_text(body: bytes) -> str:
    """The text a PDF shows: its content streams inflated (fpdf2 compresses them), read as the
    Windows-1252 of its core font. Fails unless the body is a complete PDF."""
    assert body.startswith(b"%PDF-1.") and body.rstrip().endswith(b"%%EOF"), body[:20]
    shown = []
    for raw in STREAM.findall(body):
        try:
            shown.append(zlib.decompress(raw).decode("cp1252"))
        except zlib.error:
            continue  # not a content stream
    # a PDF string escapes its parentheses and backslashes
    return "\n".join(shown).replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\")


def test_a_bill_pdf_carries_what_the_bill_shows(api: Api) -> None:
    answer = api.call("GET", f"/v1/bills/{MARIO[2]}/pdf", customer=api.token())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert 'filename="bolletta-F100001-01.pdf"' in answer.headers["content-disposition"]
    text = pdf_text(answer.content)
    for shown in (
        "Copia della bolletta n. F100001-01",
        "Mario Rossi",
        "100001",
        "IT001E12345678",  # the POD
        "182,40\xa0€",
        "1º dicembre 2026",  # due date: 5 days after the business day
        "620 kWh",  # consumption billed
        "12.410 kWh (lettura reale del distributore)",  # closing reading and its source
        "11.790 kWh",  # opening reading
        "dal 2 settembre 2026 al 31 ottobre 2026",  # the period billed
        "da pagare",
    ):
        assert shown in text, (shown, text)


def test_a_conguaglio_pdf_shows_the_adjustment_and_a_gas_one_the_pdr(api: Api) -> None:
    anna = pdf_text(api.call("GET", f"/v1/bills/{ANNA[2]}/pdf", customer=api.token(ANNA)).content)
    assert "di cui conguaglio" in anna and "65,50\xa0€" in anna and "Anna Ferrari" in anna
    laura = pdf_text(api.call("GET", f"/v1/bills/{LAURA[2]}/pdf", customer=api.token(LAURA)).content)
    assert "PDR" in laura and "00881234567890" in laura and "m³" in laura and "lettura stimata" in laura


def test_a_pdf_needs_both_tokens_and_the_owner(api: Api) -> None:
    path = f"/v1/bills/{MARIO[2]}/pdf"
    assert api.call("GET", path, service=None, customer=api.token()).status_code == 401
    assert error_code(api.call("GET", path)) == "customer_token_required"
    other = api.call("GET", path, customer=api.token(LAURA))
    assert other.status_code == 403 and error_code(other) == "forbidden"
    link = api.call("GET", f"/v1/bills/{MARIO[2]}/download-link", customer=api.token(LAURA))
    assert link.status_code == 403 and error_code(link) == "forbidden"
    missing = api.call("GET", "/v1/bills/F999999-01/pdf", customer=api.token())
    assert missing.status_code == 404 and error_code(missing) == "bill_not_found"
    odd = api.call("GET", "/v1/bills/F1%20OR%201/pdf", customer=api.token())
    assert odd.status_code == 422 and error_code(odd) == "invalid_request"


def test_a_download_link_serves_the_pdf_without_the_customer_token(api: Api) -> None:
    token = api.token()
    answer = api.call("GET", f"/v1/bills/{MARIO[2]}/download-link", customer=token)
    assert answer.status_code == 200, answer.text
    link = answer.json()
    assert link["bill_id"] == MARIO[2] and token not in link["token"] and "100001" not in link["token"]
    served = api.call("GET", f"/v1/bill-downloads/{link['token']}")
    assert served.status_code == 200 and "Mario Rossi" in pdf_text(served.content)
    # the service token is still needed: the link is served to customers by the web service
    assert api.call("GET", f"/v1/bill-downloads/{link['token']}", service=None).status_code == 401


def test_a_tampered_or_expired_link_is_refused(api: Api) -> None:
    genuine = api.call("GET", f"/v1/bills/{MARIO[2]}/download-link", customer=api.token()).json()["token"]
    payload, stamp, signature = genuine.split(".")
    # another bill's id under Mario's signature, a changed signature, the age moved forward
    laura_bill = URLSafeTimedSerializer("x", salt=SALT).dumps(LAURA[2]).split(".")[0]
    for forged in (
        f"{laura_bill}.{stamp}.{signature}",
        f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        f"{payload}.{base64_encode(int_to_bytes(int(time.time()) + 3600)).decode()}.{signature}",
        "made-up",
    ):
        refused = api.call("GET", f"/v1/bill-downloads/{forged}")
        assert refused.status_code == 403 and error_code(refused) == "link_invalid", forged

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - (api.settings.bill_link_minutes * 60 + 5)

    # signed with the backend's own key, but older than a link lives
    old = URLSafeTimedSerializer(TOKEN_SECRET, salt=SALT, signer=Old).dumps(MARIO[2])
    expired = api.call("GET", f"/v1/bill-downloads/{old}")
    assert expired.status_code == 410 and error_code(expired) == "link_expired"


def test_a_conguaglio_is_explained_against_the_estimated_bills_before_it(api: Api) -> None:
    answer = api.call("GET", f"/v1/bills/{ANNA[2]}/comparison", customer=api.token(ANNA))
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [b["id"] for b in found["previous"]] == ["F100004-02", "F100004-03", "F100004-04"]
    assert found["average_previous_cents"] == round((5_840 + 6_120 + 6_370) / 3)
    assert found["average_previous_consumption"] == 195 and found["bill"]["consumption"] == 410
    assert found["previous_estimated"] == 3 and found["bill"]["adjustment_cents"] == 6_550
    assert found["reasons"] == ["adjustment", "higher_consumption"]


def test_an_estimated_bill_and_an_ordinary_one_are_told_apart(api: Api) -> None:
    laura = api.call("GET", f"/v1/bills/{LAURA[2]}/comparison", customer=api.token(LAURA)).json()
    assert laura["reasons"] == ["higher_consumption", "estimated_reading"] and laura["difference_percent"] == 99
    mario = api.call("GET", f"/v1/bills/{MARIO[2]}/comparison", customer=api.token()).json()
    assert mario["reasons"] == ["not_higher"] and mario["difference_percent"] == 11
    other = api.call("GET", f"/v1/bills/{MARIO[2]}/comparison", customer=api.token(LAURA))
    assert other.status_code == 403 and error_code(other) == "forbidden"
