"""The business rules: examples from the domain notes, and properties that must always hold."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.rules.engine import (
    BillFacts,
    BonusThresholds,
    add_months,
    bonus_sociale_eligible,
    bonus_sociale_rules,
    cents_of,
    deferral_options,
    hardship_measures,
    installment_options,
    late_interest,
    split_amount,
)

TODAY = date(2026, 11, 26)
cents = st.integers(min_value=0, max_value=5_000_000)
days = st.dates(min_value=date(2017, 1, 1), max_value=date(2030, 12, 31))


# ------------------------------------------------------------------ arithmetic properties
@given(total=cents, count=st.integers(min_value=1, max_value=24))
def test_split_adds_up_exactly_and_is_even(total, count):
    parts = split_amount(total, count)
    assert sum(parts) == total
    assert len(parts) == count
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


@given(day=days, months=st.integers(min_value=0, max_value=36))
def test_add_months_stays_in_the_target_month(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day


@given(amount=st.integers(min_value=15_000, max_value=1_000_000), due=days, offset=st.integers(-30, 10))
def test_every_installment_option_adds_up_to_the_bill(amount, due, offset):
    decision = installment_options(BillFacts(amount, due), due + timedelta(days=offset))
    for option in decision.options:
        principal = sum(i.amount_cents - i.interest_cents for i in option.installments)
        assert principal == amount
        dates = [i.due_date for i in option.installments]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)


@given(amount=cents, due=days, late=st.integers(0, 400), extra=st.integers(1, 100), good=st.booleans())
def test_interest_never_decreases_with_later_payment(amount, due, late, extra, good):
    earlier = late_interest(amount, due, due + timedelta(days=late), good)
    later = late_interest(amount, due, due + timedelta(days=late + extra), good)
    if earlier.waiver_id is None and later.waiver_id is None:
        assert later.interest_cents >= earlier.interest_cents


@given(amount=cents, due=days, early=st.integers(0, 60))
def test_no_interest_when_paid_by_the_due_date(amount, due, early):
    assert late_interest(amount, due, due - timedelta(days=early)).interest_cents == 0


@given(amount=st.integers(1, 1_000_000), due=days, late=st.integers(1, 11))
def test_good_payer_never_pays_more(amount, due, late):
    paid = due + timedelta(days=late)
    assert late_interest(amount, due, paid, True).interest_cents <= late_interest(amount, due, paid, False).interest_cents


@given(amount=st.integers(1, 1_000_000), due=days, on_offset=st.integers(-20, 20))
def test_deferral_dates_respect_the_policy(amount, due, on_offset):
    on = due + timedelta(days=on_offset)
    decision = deferral_options(BillFacts(amount, due), on)
    if decision.eligible:
        assert on < decision.earliest_date <= decision.latest_date <= due + timedelta(days=30)
    else:
        assert decision.refusal is not None and decision.refusal.message


# ------------------------------------------------------------------ the demo customers' cases
def test_mario_rossi_bill_due_in_five_days():
    bill = BillFacts(18_240, TODAY + timedelta(days=5))
    installments = installment_options(bill, TODAY)
    assert installments.eligible and installments.scheme_id == "standard-2023"
    assert [o.count for o in installments.options] == [2]
    assert [i.amount_cents for i in installments.options[0].installments] == [9_120, 9_120]
    assert deferral_options(bill, TODAY).latest_date == bill.due_date + timedelta(days=30)


def test_laura_bianchi_bill_overdue_twelve_days_is_refused_with_a_reason():
    decision = installment_options(BillFacts(82_000, TODAY - timedelta(days=12)), TODAY)
    assert not decision.eligible
    assert decision.refusal.code == "too_late"
    assert "12 giorni" in decision.refusal.message and "10 giorni" in decision.refusal.message


def test_2023_table_sets_the_largest_number_of_installments():
    for amount, expected in [(15_000, 2), (35_000, 2), (35_001, 3), (70_001, 4), (150_000, 5), (250_001, 7)]:
        decision = installment_options(BillFacts(amount, TODAY + timedelta(days=3)), TODAY)
        assert max(o.count for o in decision.options) == expected, amount


def test_small_paid_and_arrears_bills_are_refused():
    assert installment_options(BillFacts(9_000, TODAY), TODAY).refusal.code == "below_minimum"
    assert installment_options(BillFacts(30_000, TODAY, status="paid"), TODAY).refusal.code == "already_paid"
    assert deferral_options(BillFacts(30_000, TODAY, status="arrears"), TODAY).refusal.code == "in_arrears"
    assert deferral_options(BillFacts(30_000, TODAY, deferrals=1), TODAY).refusal.code == "already_deferred"


def test_2020_relief_campaign_applies_on_a_2020_day_only():
    bill = BillFacts(50_000, date(2020, 3, 20))
    in_2020 = installment_options(bill, date(2020, 4, 25))  # overdue, still eligible
    assert in_2020.eligible and in_2020.scheme_id == "relief-2020"
    assert [o.count for o in in_2020.options] == [3]
    assert in_2020.options[0].installments[0].due_date.month == 4  # month after the due date
    # the same kind of bill today: the campaign is gone, the 2023 scheme applies
    today_bill = BillFacts(50_000, TODAY + timedelta(days=2))
    assert installment_options(today_bill, TODAY).scheme_id == "standard-2023"


def test_2020_interest_waiver():
    waived = late_interest(50_000, date(2020, 3, 20), date(2020, 4, 30))
    assert waived.interest_cents == 0 and waived.waiver_id == "relief-2020"
    charged = late_interest(50_000, date(2020, 3, 20), date(2020, 5, 2))
    assert charged.interest_cents > 0


def test_interest_uses_the_ecb_rate_of_each_day_plus_spread():
    # due 2023-03-20, paid 2023-03-22: 21 March at 3.00 %, 22 March at 3.50 %, plus 3.5 points
    quote = late_interest(1_000_000, date(2023, 3, 20), date(2023, 3, 22))
    expected = Decimal(1_000_000) * (Decimal("6.5") + Decimal("7.0")) / 100 / 365
    assert quote.interest_cents == int(expected.quantize(Decimal(1)))


def test_adjustment_bill_over_150_percent_has_the_arera_right():
    bill = BillFacts(12_000, TODAY + timedelta(days=5), kind="adjustment",
                     average_previous_cents=6_000, estimated_bills_since_adjustment=3)
    decision = installment_options(bill, TODAY)
    assert decision.scheme_id == "arera-adjustment"
    assert min(o.count for o in decision.options) == 3
    not_anomalous = BillFacts(12_000, TODAY + timedelta(days=5), kind="adjustment", average_previous_cents=9_000)
    assert installment_options(not_anomalous, TODAY).refusal.code == "below_minimum"


def test_bonus_sociale_thresholds_by_year():
    assert bonus_sociale_rules(date(2019, 6, 1)).isee_threshold_eur == Decimal("8107.5")
    assert bonus_sociale_rules(date(2022, 6, 1)).isee_threshold_eur == Decimal("12000")
    assert bonus_sociale_rules(date(2023, 6, 1)).large_family_isee_threshold_eur == Decimal("30000")
    assert bonus_sociale_rules(date(2026, 11, 26)).isee_threshold_eur == Decimal("9796")
    assert not bonus_sociale_rules(date(2020, 4, 1)).automatic
    assert bonus_sociale_rules(date(2021, 1, 1)).automatic
    assert bonus_sociale_rules(date(2020, 4, 1)).deadlines and not bonus_sociale_rules(TODAY).deadlines


def test_bonus_sociale_eligibility_by_household():
    thresholds = BonusThresholds.of(bonus_sociale_rules(TODAY))
    assert thresholds == BonusThresholds(979_600, 2_000_000, 4)
    assert bonus_sociale_eligible(thresholds, 900_000)
    assert bonus_sociale_eligible(thresholds, 979_600) and not bonus_sociale_eligible(thresholds, 979_601)
    assert not bonus_sociale_eligible(thresholds, 1_500_000, dependent_children=2)
    assert bonus_sociale_eligible(thresholds, 1_500_000, dependent_children=4)


def test_bonus_thresholds_from_the_api_answer_are_exact_cents():
    # 8107.50 as JSON is a binary float: the cents come from its decimal text
    assert BonusThresholds.of({"isee_threshold_eur": 8107.5, "large_family_isee_threshold_eur": 20000.0,
                               "large_family_min_children": 4}).isee_cents == 810_750
    assert cents_of(0.29) == 29 and cents_of("9530") == 953_000


def test_hardship_measures_by_date():
    assert len(hardship_measures(date(2020, 6, 1))) == 2
    assert "cassa integrazione" in hardship_measures(date(2020, 6, 1))[0]
    assert len(hardship_measures(TODAY)) == 1

