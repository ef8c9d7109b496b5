"""No codice fiscale, IBAN, phone number, e-mail, POD or PDR survives masking (property-based);
its patterns are linear by their shape; a long text is cut without leaking a value."""

from __future__ import annotations

import re
import string

from hypothesis import given
from hypothesis import strategies as st
from stdnum.it import codicefiscale

from bot import masking
from bot.masking import MAX_MASKED_CHARS, TRUNCATION_MARKER, mask_text
from tests.backtracking import problems

LETTERS = string.ascii_uppercase
filler = st.text(alphabet=string.ascii_letters + " ,.;:!?àèéìòù'", max_size=40)


@st.composite
def fiscal_codes(draw):
    body = (draw(st.text(LETTERS, min_size=6, max_size=6)) + f"{draw(st.integers(0, 99)):02d}"
            + draw(st.sampled_from("ABCDEHLMPRST")) + f"{draw(st.integers(1, 71)):02d}"
            + draw(st.sampled_from(LETTERS)) + f"{draw(st.integers(0, 999)):03d}")
    code = body + codicefiscale.calc_check_digit(body)
    return code.lower() if draw(st.booleans()) else code


@st.composite
def ibans(draw):
    digits = "".join(str(draw(st.integers(0, 9))) for _ in range(22))
    iban = f"IT{digits[:2]}{draw(st.sampled_from(LETTERS))}{digits[2:]}"
    if draw(st.booleans()):
        iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


@st.composite
def phones(draw):
    number = "3" + "".join(str(draw(st.integers(0, 9))) for _ in range(9))
    prefix = draw(st.sampled_from(["", "+39", "+39 ", "0039"]))
    separator = draw(st.sampled_from(["", " ", "-", "."]))
    return prefix + number[:3] + separator + number[3:6] + separator + number[6:]


@st.composite
def pods(draw):
    return f"IT{draw(st.integers(0, 999)):03d}E{draw(st.integers(0, 99999999)):08d}"


@st.composite
def pdrs(draw):
    return "".join(str(draw(st.integers(0, 9))) for _ in range(14))


def digits_of(value: str) -> str:
    return re.sub(r"\D", "", value)


@given(before=filler, secret=st.one_of(fiscal_codes(), ibans(), pods()), after=filler)
def test_codes_do_not_survive(before, secret, after):
    masked = mask_text(f"{before} {secret} {after}")
    compact = re.sub(r"\s", "", masked).upper()
    assert re.sub(r"\s", "", secret).upper() not in compact


@given(before=filler, secret=st.one_of(phones(), pdrs()), after=filler)
def test_numbers_do_not_survive(before, secret, after):
    masked = mask_text(f"{before} {secret} {after}")
    assert digits_of(secret)[-10:] not in digits_of(masked)


def test_examples_and_what_stays_readable():
    text = "Sono RSSMRA80A01H501U, IBAN IT60X0542811101000000123456, tel +39 333 123 4567, mario@example.it"
    masked = mask_text(text)
    assert "RSS*********501U" in masked and "IT60X" not in masked and "333 123" not in masked
    assert "m***@example.it" in masked and masked.startswith("Sono ")
    assert mask_text("vorrei pagare il 20 dicembre, sono 182,40 euro") == "vorrei pagare il 20 dicembre, sono 182,40 euro"


def test_names_from_slots_are_masked_too():
    from bot.masking import names_masker

    mask = names_masker(["Mario Rossi"])
    assert mask("Grazie Mario, ho verificato. ROSSI") == "Grazie M***, ho verificato. R***"
    assert names_masker([])("Grazie Mario") == "Grazie Mario"


def test_every_masking_pattern_is_linear_by_its_shape():
    """Masking runs on every stored text, log line and export, so its patterns must stay linear
    in the text (issue 10, finding 4: the old e-mail pattern took 25 s on "a" * 100_000). Checked
    on the patterns as `re` parses them (tests/backtracking.py), not by timing: bounded
    repetitions, each splitting the text one way, no overlapping neighbours."""
    applied = [pattern for pattern, _, _ in masking._RULES]
    assert set(applied) == {masking.EMAIL, masking.FISCAL_CODE, masking.POD, masking.IBAN, masking.PHONE_OR_LONG_NUMBER}
    assert {p.pattern: problems(p, bounded=True) for p in applied} == {p.pattern: [] for p in applied}


def test_the_shape_check_refuses_the_old_email_pattern():
    # the unbounded local part made every failed attempt scan to the end of the text
    assert problems(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", bounded=True)


def test_a_long_text_is_cut_before_masking_without_leaking_a_value_cut_in_half():
    phone = "+39 333 123 4567"
    filler = "x, " * (MAX_MASKED_CHARS // 3)
    # the number straddles the cut: its first digits fall before MAX_MASKED_CHARS
    text = filler[:MAX_MASKED_CHARS - 7] + phone + " fine" + "a" * 1_000_000
    masked = mask_text(text)
    assert masked.endswith(TRUNCATION_MARKER) and len(masked) <= MAX_MASKED_CHARS + len(TRUNCATION_MARKER)
    assert "333" not in masked and "+39" not in masked
    assert mask_text("a" * 1_000_000).endswith(TRUNCATION_MARKER)
