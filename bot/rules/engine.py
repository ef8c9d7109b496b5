"""The business rules, computed for a given business day from the dated data in policy.yml.

Money is in integer euro cents, dates are `date`, and every function takes the day it is
asked on (`on`) instead of reading a clock: the backend passes the business clock's today,
tests pass whatever day they need (a 2020 date shows the relief campaign, today's does not).
Reasons for a refusal are codes plus a plain Italian sentence the bot can read to a customer.

Over 300 lines: the one module that reads policy.yml (deferral, installments, interest, bonus,
hardship, readings, complaints); pure functions, each small.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

from bot.formatters import euros, italian_date

POLICY_FILE = Path(__file__).with_name("policy.yml")


# --------------------------------------------------------------------------- policy data
@functools.lru_cache(maxsize=4)
def load_policy(path: Path = POLICY_FILE) -> dict[str, Any]:
    """The policy document; dates are parsed by YAML into `date` objects."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _in_force(entry: dict[str, Any], on: date) -> bool:
    start, end = entry.get("valid_from"), entry.get("valid_to")
    return (start is None or start <= on) and (end is None or on <= end)


def _rate_on(table: Sequence[dict[str, Any]], day: date) -> Decimal:
    """The rate of a step table ({from, rate}, ascending) in force on `day`."""
    rate = None
    for step in table:
        if step["from"] <= day:
            rate = Decimal(str(step["rate"]))
    if rate is None:
        raise ValueError(f"no rate in force on {day}")
    return rate


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------- the bill
@dataclass(frozen=True)
class BillFacts:
    """What the rules need to know about a bill."""

    amount_cents: int
    due_date: date
    status: str = "open"  # open | paid | arrears
    deferrals: int = 0  # deferrals already granted on this bill
    has_plan: bool = False  # an installment plan already exists
    kind: str = "regular"  # regular | adjustment (conguaglio)
    average_previous_cents: int | None = None  # average of the preceding estimated bills
    estimated_bills_since_adjustment: int = 0


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def _common_refusal(bill: BillFacts) -> Refusal | None:
    if bill.status == "paid":
        return Refusal("already_paid", "La bolletta risulta già pagata.")
    if bill.status == "arrears":
        return Refusal(
            "in_arrears",
            "Per questa bolletta è già in corso una procedura di sollecito: serve l'intervento di un operatore.",
        )
    return None


# --------------------------------------------------------------------------- deferral
@dataclass(frozen=True)
class DeferralDecision:
    eligible: bool
    earliest_date: date | None = None
    latest_date: date | None = None
    refusal: Refusal | None = None


def deferral_options(bill: BillFacts, on: date) -> DeferralDecision:
    """Whether the due date can be moved on day `on`, and to which dates."""
    policies = [p for p in load_policy()["deferral"] if _in_force(p, on)]
    if not policies:
        return DeferralDecision(False, refusal=Refusal("no_policy", "Al momento non è possibile spostare le scadenze."))
    policy = policies[-1]
    refusal = _common_refusal(bill)
    if refusal is None and bill.status in policy["excluded_statuses"]:
        refusal = Refusal("excluded", "Questa bolletta non può essere prorogata.")
    if refusal is None and bill.deferrals >= policy["max_per_bill"]:
        refusal = Refusal("already_deferred", "La scadenza di questa bolletta è già stata spostata una volta.")
    if refusal is None and bill.has_plan:
        refusal = Refusal("plan_exists", "Questa bolletta è già rateizzata: le rate hanno le loro scadenze.")
    overdue = (on - bill.due_date).days
    if refusal is None and overdue > policy["max_days_overdue"]:
        refusal = Refusal(
            "too_late",
            f"La bolletta è scaduta da {overdue} giorni: la proroga si può chiedere al più "
            f"tardi {policy['max_days_overdue']} giorni dopo la scadenza.",
        )
    if refusal:
        return DeferralDecision(False, refusal=refusal)
    earliest = max(bill.due_date, on) + timedelta(days=policy["min_extension_days"])
    latest = bill.due_date + timedelta(days=policy["max_extension_days"])
    if latest < earliest:
        return DeferralDecision(False, refusal=Refusal("too_late", "Non c'è più margine per spostare la scadenza."))
    return DeferralDecision(True, earliest_date=earliest, latest_date=latest)


# --------------------------------------------------------------------------- installments
def split_amount(total_cents: int, count: int) -> list[int]:
    """Equal installments adding up exactly to the total; the odd cents go to the first ones."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if total_cents < 0:
        raise ValueError("total must not be negative")
    base, remainder = divmod(total_cents, count)
    return [base + (1 if i < remainder else 0) for i in range(count)]


@dataclass(frozen=True)
class Installment:
    number: int
    due_date: date
    amount_cents: int  # principal + interest
    interest_cents: int = 0


@dataclass(frozen=True)
class InstallmentOption:
    count: int
    installments: tuple[Installment, ...]

    @property
    def total_cents(self) -> int:
        return sum(i.amount_cents for i in self.installments)

    @property
    def interest_cents(self) -> int:
        return sum(i.interest_cents for i in self.installments)


@dataclass(frozen=True)
class InstallmentDecision:
    eligible: bool
    scheme_id: str | None = None
    scheme_label: str | None = None
    options: tuple[InstallmentOption, ...] = ()
    refusal: Refusal | None = None


def _first_due(scheme: dict[str, Any], bill: BillFacts, on: date) -> date:
    if scheme["first_due"] == "next_month_of_due_date":
        return max(add_months(bill.due_date, 1), on + timedelta(days=1))
    if scheme["first_due"] == "thirty_days_after_request":
        return on + timedelta(days=30)
    raise ValueError(f"unknown first_due rule {scheme['first_due']!r}")


def _schedule(scheme: dict[str, Any], bill: BillFacts, on: date, count: int) -> InstallmentOption:
    first = _first_due(scheme, bill, on)
    parts = split_amount(bill.amount_cents, count)
    installments = []
    for number, principal in enumerate(parts, start=1):
        due = add_months(first, number - 1)
        interest = 0
        if scheme["interest"] == "ecb_reference":
            rate = _rate_on(load_policy()["late_interest"]["ecb_rates"], on)
            days = max((due - bill.due_date).days, 0)
            interest = int((Decimal(principal) * rate / 100 * days / 365).quantize(Decimal(1), ROUND_HALF_UP))
        installments.append(Installment(number, due, principal + interest, interest))
    return InstallmentOption(count, tuple(installments))


def _max_count(scheme: dict[str, Any], amount_cents: int) -> int:
    for step in scheme["max_count_by_amount"]:
        if step["up_to_cents"] is None or amount_cents <= step["up_to_cents"]:
            return step["count"]
    raise ValueError("max_count_by_amount must end with an open bound")


def _applicable_schemes(bill: BillFacts, on: date) -> list[dict[str, Any]]:
    """Schemes in force on `on` that cover this bill, campaigns first."""
    found = []
    for scheme in load_policy()["installments"]:
        if not _in_force(scheme, on):
            continue
        if scheme["kind"] == "campaign" and not (scheme["bills_due_from"] <= bill.due_date <= scheme["bills_due_to"]):
            continue
        if scheme["kind"] == "adjustment":
            average = bill.average_previous_cents
            if (
                bill.kind != "adjustment"
                or not average
                or bill.amount_cents * 100 < average * scheme["min_ratio_percent"]
            ):
                continue
        found.append(scheme)
    order = {"campaign": 0, "adjustment": 1, "scheme": 2}
    return sorted(found, key=lambda s: order[s["kind"]])


def installment_options(bill: BillFacts, on: date) -> InstallmentDecision:
    """The installment plans the customer can choose on day `on`, or why there are none."""
    refusal = _common_refusal(bill)
    if refusal is None and bill.has_plan:
        refusal = Refusal("plan_exists", "Per questa bolletta esiste già un piano di rateizzazione.")
    if refusal:
        return InstallmentDecision(False, refusal=refusal)

    schemes = _applicable_schemes(bill, on)
    if not schemes:
        return InstallmentDecision(
            False, refusal=Refusal("no_scheme", "Al momento non è attiva una rateizzazione per questa bolletta.")
        )

    overdue = (on - bill.due_date).days
    last_refusal: Refusal | None = None
    for scheme in schemes:
        if bill.amount_cents < scheme["min_amount_cents"]:
            last_refusal = last_refusal or Refusal(
                "below_minimum",
                f"La rateizzazione è possibile per bollette di almeno {euros(scheme['min_amount_cents'])}; "
                f"questa è di {euros(bill.amount_cents)}.",
            )
            continue
        limit = scheme.get("max_days_overdue")
        if limit is not None and overdue > limit:
            last_refusal = Refusal(
                "too_late",
                f"La bolletta è scaduta da {overdue} giorni: la rateizzazione si può chiedere entro "
                f"{limit} giorni dalla scadenza.",
            )
            continue
        if "counts" in scheme:
            counts = list(scheme["counts"])
        else:
            low = max(2, bill.estimated_bills_since_adjustment) if scheme["kind"] == "adjustment" else 2
            counts = list(range(low, max(low, _max_count(scheme, bill.amount_cents)) + 1))
        options = tuple(_schedule(scheme, bill, on, count) for count in counts)
        return InstallmentDecision(True, scheme["id"], scheme["label"], options)
    return InstallmentDecision(False, refusal=last_refusal)


# --------------------------------------------------------------------------- late interest
@dataclass(frozen=True)
class InterestQuote:
    days_late: int
    interest_cents: int
    rule: str  # plain Italian: what was applied
    waiver_id: str | None = None


def late_interest(amount_cents: int, due_date: date, paid_on: date, good_payer: bool = False) -> InterestQuote:
    """Interest owed if a bill due on `due_date` is paid on `paid_on` (regulated customers)."""
    days_late = (paid_on - due_date).days
    if days_late <= 0:
        return InterestQuote(0, 0, "Pagando entro la scadenza non si pagano interessi di mora.")
    policy = load_policy()["late_interest"]
    for waiver in policy["waivers"]:
        if waiver["bills_due_from"] <= due_date <= waiver["bills_due_to"] and paid_on <= waiver["paid_by"]:
            return InterestQuote(
                days_late,
                0,
                f"Interessi non applicati: bolletta con scadenza tra {italian_date(waiver['bills_due_from'], 'il')} e "
                f"{italian_date(waiver['bills_due_to'], 'il')} pagata entro {italian_date(waiver['paid_by'], 'il')}.",
                waiver["id"],
            )
    spread = Decimal(str(policy["spread_points"]))
    legal_days = policy["good_payer_days_at_legal_rate"] if good_payer else 0
    total = Decimal(0)
    for offset in range(1, days_late + 1):
        day = due_date + timedelta(days=offset)
        if offset <= legal_days:
            rate = _rate_on(policy["legal_rates"], day)
        else:
            rate = _rate_on(policy["ecb_rates"], day) + spread
        total += Decimal(amount_cents) * rate / 100 / 365
    cents = int(total.quantize(Decimal(1), ROUND_HALF_UP))
    rule = (
        f"Tasso di riferimento BCE più {str(spread).replace('.', ',')} punti all'anno, "
        f"per {days_late} giorni di ritardo"
        + (
            f"; per i primi {legal_days} giorni solo l'interesse legale, avendo pagato puntualmente negli ultimi "
            f"{policy['good_payer_years']} anni"
            if legal_days
            else ""
        )
        + "."
    )
    return InterestQuote(days_late, cents, rule)


# --------------------------------------------------------------------------- bonus sociale
@dataclass(frozen=True)
class BonusRules:
    on: date
    isee_threshold_eur: Decimal
    large_family_isee_threshold_eur: Decimal
    large_family_min_children: int
    automatic: bool
    how: str
    disagio_fisico: str
    deadlines: tuple[str, ...] = field(default_factory=tuple)


def bonus_sociale_rules(on: date) -> BonusRules:
    """The bonus sociale rules in force on day `on`."""
    policy = load_policy()["bonus_sociale"]
    thresholds = [t for t in policy["thresholds"] if _in_force(t, on)]
    procedures = [p for p in policy["procedures"] if _in_force(p, on)]
    if not thresholds or not procedures:
        raise LookupError(f"no bonus sociale rules in force on {on}")
    threshold, procedure = thresholds[-1], procedures[-1]
    return BonusRules(
        on=on,
        isee_threshold_eur=Decimal(str(threshold["isee_eur"])),
        large_family_isee_threshold_eur=Decimal(str(threshold["large_family_isee_eur"])),
        large_family_min_children=policy["large_family_min_children"],
        automatic=procedure["automatic"],
        how=" ".join(procedure["how"].split()),
        disagio_fisico=" ".join(policy["disagio_fisico"].split()),
        deadlines=tuple(d["text"] for d in policy["deadlines"] if _in_force(d, on)),
    )


def cents_of(eur: Any) -> int:
    """Integer cents of an amount in euros as the policy file or JSON writes it (9530, 8107.5):
    through its decimal text, so no binary float reaches a comparison."""
    return int((Decimal(str(eur)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class BonusThresholds:
    """The ISEE limits of the bonus sociale in integer cents: the standard one, and the higher
    one for households with at least `large_family_min_children` dependent children."""

    isee_cents: int
    large_family_isee_cents: int
    large_family_min_children: int

    @classmethod
    def of(cls, rules: BonusRules | dict[str, Any]) -> BonusThresholds:
        """From the engine's rules or from the billing API's JSON answer (euros)."""

        def get(name: str) -> Any:
            return rules[name] if isinstance(rules, dict) else getattr(rules, name)

        return cls(
            cents_of(get("isee_threshold_eur")),
            cents_of(get("large_family_isee_threshold_eur")),
            int(get("large_family_min_children")),
        )

    def large_family(self, dependent_children: int | None) -> bool:
        return dependent_children is not None and dependent_children >= self.large_family_min_children

    def limit_cents(self, dependent_children: int | None = None) -> int:
        """The limit that applies to the household."""
        return self.large_family_isee_cents if self.large_family(dependent_children) else self.isee_cents


def bonus_sociale_eligible(thresholds: BonusThresholds, isee_cents: int, dependent_children: int | None = None) -> bool:
    """Whether an ISEE value (cents) is within the limit that applies to the household."""
    return isee_cents <= thresholds.limit_cents(dependent_children)


# --------------------------------------------------------------------------- hardship
def hardship_measures(on: date) -> list[str]:
    """Plain-Italian descriptions of the hardship measures in force on `on`, specific first."""
    entries = [h for h in load_policy()["hardship"] if _in_force(h, on)]
    return [" ".join(h["text"].split()) for h in sorted(entries, key=lambda h: h["id"] == "standard")]


# --------------------------------------------------------------------------- self-service (issue 12)
def _policy_on(section: str, on: date) -> dict[str, Any]:
    listed = load_policy()[section]
    entries = [p for p in (listed["terms"] if isinstance(listed, dict) else listed) if _in_force(p, on)]
    if not entries:
        raise LookupError(f"no {section} policy in force on {on.isoformat()}")
    return entries[-1]


@dataclass(frozen=True)
class ReadingWindow:
    opens: date
    closes: date

    def contains(self, day: date) -> bool:
        return self.opens <= day <= self.closes


def reading_window(next_reading: date, on: date) -> ReadingWindow:
    """The days a self-reading is accepted for the scheduled reading of `next_reading`."""
    policy = _policy_on("meter_reading", on)
    return ReadingWindow(
        next_reading - timedelta(days=policy["days_before"]), next_reading + timedelta(days=policy["days_after"])
    )


@dataclass(frozen=True)
class ReadingCheck:
    """`ok`, `lower` (a register below the last reading: "please check") or `implausible`
    (more than the consumption profile allows: the customer confirms)."""

    verdict: str
    register: str | None = None  # the register that decided it
    consumed: int = 0  # units since the last reading, all registers
    allowed: int = 0  # the most the profile allows for the days in between


def check_reading(
    last: dict[str, int], last_on: date, new: dict[str, int], on: date, annual_consumption: int
) -> ReadingCheck:
    """A new reading against the last one and the supply's yearly consumption."""
    for register in sorted(new):
        if new[register] < last.get(register, 0):
            return ReadingCheck("lower", register)
    policy = _policy_on("meter_reading", on)
    consumed = sum(new[r] - last.get(r, 0) for r in new)
    days = max((on - last_on).days, 1)
    allowed = int(annual_consumption / 365 * days * policy["max_profile_ratio"]) + policy["slack_units"]
    verdict = "implausible" if consumed > allowed else "ok"
    return ReadingCheck(verdict, None, consumed, allowed)


def payment_registration_days(method: str) -> int:
    """Working days a payment by `method` takes to reach the utility."""
    days: dict[str, int] = load_policy()["payments"]["registration_days"]
    return days.get(method, max(days.values()))


def payment_methods() -> list[dict[str, str]]:
    methods: list[dict[str, str]] = load_policy()["payments"]["methods"]
    return methods


@dataclass(frozen=True)
class ComplaintTerms:
    answer_days: int
    answer_due_on: date
    indemnity_eur: int
    source: str
    verified: bool
    conciliation_after_days: int | None = None


def complaint_terms(received_on: date) -> ComplaintTerms:
    """The regulated time for a reasoned answer to a written complaint received that day."""
    policy = _policy_on("complaints", received_on)
    return ComplaintTerms(
        answer_days=policy["answer_days"],
        answer_due_on=received_on + timedelta(days=policy["answer_days"]),
        indemnity_eur=policy["indemnity_eur"],
        source=policy["source"],
        verified=bool(policy.get("verified")),
        conciliation_after_days=policy.get("conciliation_after_days"),
    )


def complaint_categories() -> dict[str, str]:
    categories: dict[str, str] = load_policy()["complaints"]["categories"]
    return categories


def creditor_tax_code() -> str:
    return str(load_policy()["payments"]["creditor_tax_code"])


@dataclass(frozen=True)
class BillHistory:
    """What a bill shows, for comparing it with the earlier bills of its supply (issue 12)."""

    amount_cents: int
    consumption: int | None
    estimated: bool  # the closing reading was an estimate
    kind: str = "regular"
    adjustment_cents: int | None = None


@dataclass(frozen=True)
class BillComparison:
    average_previous_cents: int | None
    average_previous_consumption: int | None
    difference_cents: int
    difference_percent: int | None
    consumption_difference_percent: int | None
    previous_estimated: int  # how many earlier bills closed on an estimated reading
    # codes of what explains the amount, most telling first: adjustment, higher_consumption,
    # estimated_reading, not_higher, no_history
    reasons: tuple[str, ...]


def _percent(value: int, base: int | None) -> int | None:
    return round((value - base) * 100 / base) if base else None


def compare_bill(bill: BillHistory, previous: Sequence[BillHistory]) -> BillComparison:
    """A bill against the average of the earlier ones (policy.yml `bill_explanation`)."""
    policy = load_policy()["bill_explanation"]
    earlier = list(previous)[: policy["previous_bills"]]
    threshold = policy["higher_percent"]
    average = round(sum(b.amount_cents for b in earlier) / len(earlier)) if earlier else None
    used = [b.consumption for b in earlier if b.consumption is not None]
    average_used = round(sum(used) / len(used)) if used else None
    percent = _percent(bill.amount_cents, average)
    used_percent = _percent(bill.consumption, average_used) if bill.consumption is not None else None
    estimated_before = sum(1 for b in earlier if b.estimated)
    reasons: list[str] = []
    if bill.kind == "adjustment" or bill.adjustment_cents:
        reasons.append("adjustment")
    if used_percent is not None and used_percent >= threshold:
        reasons.append("higher_consumption")
    if bill.estimated:
        reasons.append("estimated_reading")
    if not earlier:
        reasons.append("no_history")
    elif percent is not None and percent < threshold:
        reasons.append("not_higher")
    return BillComparison(
        average_previous_cents=average,
        average_previous_consumption=average_used,
        difference_cents=bill.amount_cents - (average or bill.amount_cents),
        difference_percent=percent,
        consumption_difference_percent=used_percent,
        previous_estimated=estimated_before,
        reasons=tuple(reasons),
    )


# --------------------------------------------------------------------------- direct debit (issue 12)
@dataclass(frozen=True)
class DirectDebitTerms:
    activation_days: int
    revocation_days: int
    billing_period_days: int


def direct_debit_terms(on: date) -> DirectDebitTerms:
    """The lead times of a SEPA mandate signed or revoked on `on` (policy.yml `direct_debit`)."""
    policy = _policy_on("direct_debit", on)
    return DirectDebitTerms(policy["activation_days"], policy["revocation_days"], policy["billing_period_days"])


def sepa_countries() -> frozenset[str]:
    return frozenset(load_policy()["direct_debit"]["sepa_countries"])


def next_bill_issue(last_issue: date | None, from_day: date, period_days: int) -> date:
    """The first expected bill issue on or after `from_day`: the last bill's issue date plus
    whole billing periods (no bill yet: `from_day` itself)."""
    if last_issue is None or last_issue >= from_day:
        return from_day if last_issue is None else last_issue
    periods = -(-(from_day - last_issue).days // period_days)  # rounded up
    return last_issue + timedelta(days=periods * period_days)


def bill_comparison_depth() -> int:
    """How many earlier bills a bill is compared with."""
    return int(load_policy()["bill_explanation"]["previous_bills"])
