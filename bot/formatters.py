"""Italian text built from data: amounts, dates, and the lists the assistant shows.

Fixed sentences live in domain.yml as responses (the actions pass these values as response
variables); what depends on the data (how many bills, which installments, which stores) is
built here, and only here. docs/conversation-design.md says where each kind of text lives.

Over 300 lines: it is the one home of customer-facing text built from data (a split by flow
would scatter the shared amount, date and list helpers, or copy them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine imports this module
    from bot.rules.engine import BonusThresholds

NBSP = "\u00a0"  # between an amount and "€", so a line never breaks inside "182,40 €"

MONTHS = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
          "agosto", "settembre", "ottobre", "novembre", "dicembre"]  # fmt: skip
WEEKDAY_NAMES = ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"]


def euros(cents: int) -> str:
    """An amount in integer cents, the Italian way: "182,40 €", "1.250,00 €", "-0,05 €"."""
    whole, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d}{NBSP}€"


def italian_date(day: date, article: str = "") -> str:
    """'1º dicembre 2026'; with an article: 'il 3 dicembre 2026', "l'11 dicembre 2026",
    "all'8 dicembre 2026" (the article elides before "8" and "11")."""
    text = f"{'1º' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"
    if not article:
        return text
    words = article.split()
    elided = {"il": "l'", "al": "all'", "dal": "dall'", "del": "dell'"}
    if day.day in (8, 11) and words[-1] in elided:
        return " ".join([*words[:-1], elided[words[-1]] + text])
    return f"{article} {text}"


def short_date(day: date) -> str:
    """'20/12': a date on a button."""
    return f"{day.day}/{day.month}"


def days(count: int) -> str:
    """'1 giorno', '12 giorni'."""
    return f"{count} giorno" if count == 1 else f"{count} giorni"


def alternatives(items: Iterable[object]) -> str:
    """'3', '2 o 3', '2, 3 o 4'."""
    words = [str(item) for item in items]
    return " o ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " o " + words[-1]


def bullets(lines: Iterable[str]) -> str:
    """One line per item, each after a bullet."""
    return "\n".join(f"• {line}" for line in lines)


# --------------------------------------------------------------------------- bills
SUPPLY_NAMES = {"luce": "luce", "gas": "gas"}


def bill_label(bill: Mapping[str, Any]) -> str:
    """'bolletta luce di 182,40 € con scadenza il 1º dicembre 2026'."""
    due = date.fromisoformat(bill["due_date"])
    supply = SUPPLY_NAMES.get(bill["supply"], bill["supply"])
    return f"bolletta {supply} di {euros(bill['amount_cents'])} con scadenza {italian_date(due, 'il')}"


def bill_button(bill: Mapping[str, Any]) -> str:
    """'Luce 182,40 €': a bill on a button."""
    return f"{bill['supply'].capitalize()} {euros(bill['amount_cents'])}"


def open_bills(bills: Sequence[Mapping[str, Any]], name: str | None) -> str:
    """The status of the customer's open bills, addressed by first name when known."""
    greeting = f"{name.split()[0]}, " if name else ""
    if not bills:
        return f"{greeting}non risultano bollette da pagare: è tutto in regola."
    lines = []
    for bill in bills:
        line = bill_label(bill)
        if bill["status"] == "arrears":
            line += " (è in corso un sollecito)"
        elif bill["has_installment_plan"]:
            line += " (rateizzata)"
        elif bill["deferred"]:
            line += " (scadenza già prorogata)"
        lines.append(line)
    if len(bills) == 1:
        head = f"{greeting}risulta da pagare una bolletta:"
    else:
        total = sum(b["amount_cents"] for b in bills)
        head = f"{greeting}risultano da pagare {len(bills)} bollette per un totale di {euros(total)}:"
    return head + "\n" + bullets(lines)


# --------------------------------------------------------------------------- deferral and installments
def deferral_summary(new_date: date) -> str:
    """What the customer confirms: 'sposto la scadenza della bolletta al 20 dicembre 2026'."""
    return f"sposto la scadenza della bolletta {italian_date(new_date, 'al')}"


def installment_schedule(installments: Iterable[Mapping[str, Any]]) -> str:
    """'• 1ª rata: 91,20 € entro il 1º dicembre 2026', one line per installment."""
    return bullets(
        f"{i['number']}ª rata: {euros(i['amount_cents'])} entro {italian_date(date.fromisoformat(i['due_date']), 'il')}"
        for i in installments
    )


def installment_options(options: Iterable[Mapping[str, Any]]) -> str:
    """'• 3 rate, la prima di 60,80 € entro il 1º dicembre 2026', one line per option."""
    lines = []
    for option in options:
        first = option["installments"][0]
        due = italian_date(date.fromisoformat(first["due_date"]), "il")
        lines.append(f"{option['count']} rate, la prima di {euros(first['amount_cents'])} entro {due}")
    return bullets(lines)


def installments_button(count: int) -> str:
    return f"{count} rate"


def installments_summary(count: int, installments: Iterable[Mapping[str, Any]]) -> str:
    """What the customer confirms: the number of installments and their schedule."""
    return f"divido la bolletta in {count} rate:\n{installment_schedule(installments)}"


# --------------------------------------------------------------------------- stores
def store_hours_today(store: Mapping[str, Any]) -> str:
    periods = store["open_today"]
    if not periods:
        return "oggi è chiuso"
    return "oggi è aperto " + " e ".join(f"dalle {p['opens']} alle {p['closes']}" for p in periods)


def store_hours_on_day(store: Mapping[str, Any]) -> str:
    """The hours on the day asked (the answer names the day): 'aperto 08:30–13:00 e
    14:30–17:30', 'chiuso (Natale)', 'aperto 08:30–12:30 (Vigilia di Natale)'."""
    why = f" ({store['special_day']})" if store.get("special_day") else ""
    periods = store["open_on"]
    if not periods:
        return f"chiuso{why}"
    return "aperto " + " e ".join(f"{p['opens']}–{p['closes']}" for p in periods) + why


def stores(found: Iterable[Mapping[str, Any]], hours: Callable[[Mapping[str, Any]], str] = store_hours_today) -> str:
    """One line per store: address, distance when known, phone, opening hours (today's unless
    `hours` says otherwise)."""
    lines = []
    for store in found:
        distance = store.get("distance_km")
        away = f" (a {round(distance)} km)" if distance is not None else ""
        phone = f", tel. {store['phone']}" if store.get("phone") else ""
        lines.append(f"{store['name']}, {store['address']}, {store['city']}{away}{phone}: {hours(store)}.")
    return bullets(lines)


def day_label(day: date, today: date) -> str:
    """The day a store answer is about: 'sabato 28 novembre', 'oggi, giovedì 26 novembre',
    'domani, venerdì 27 novembre' (with the year when it is not this year's)."""
    text = f"{WEEKDAY_NAMES[day.weekday()]} {'1º' if day.day == 1 else day.day} {MONTHS[day.month - 1]}"
    if day.year != today.year:
        text += f" {day.year}"
    return {0: "oggi, ", 1: "domani, "}.get((day - today).days, "") + text


def nearest_where(nearest_by: str, place: Mapping[str, Any]) -> str:
    """Where the stores of a town without one were taken from (issue 16), said honestly:
    by distance the lines give the km; otherwise the province or region they share."""
    if nearest_by == "province":
        return f" nella provincia di {place['province']}"
    if nearest_by == "region":
        return f" in {place['region']}"
    if nearest_by == "province_centre":
        return f" alla provincia di {place['province']}"
    return ""


def place_button(place: Mapping[str, Any]) -> str:
    """'Samone (TO)': a comune on a button when several fit what the customer wrote."""
    return f"{place['name']} ({place['province_code']})"


def sample_note(found: Iterable[Mapping[str, Any]]) -> str:
    """' (elenco di esempio)' when the stores are the demo's sample data."""
    return " (elenco di esempio)" if any(s["sample_data"] for s in found) else ""


# --------------------------------------------------------------------------- bonus sociale
def bonus_sociale(
    rules: Mapping[str, Any],
    thresholds: BonusThresholds,
    isee_cents: int | None,
    children: int | None,
    eligible: bool | None,
) -> str:
    """The rules in force (from the billing API) and, when the customer gave an ISEE, the verdict
    the rules engine reached (`eligible`)."""
    lines = [
        f"{rules['how']} La soglia ISEE in vigore è {euros(thresholds.isee_cents)}, "
        f"{euros(thresholds.large_family_isee_cents)} per le famiglie con almeno "
        f"{thresholds.large_family_min_children} figli a carico.",
        *rules["deadlines"],
    ]
    if isee_cents is not None:
        verdict = "rientra" if eligible else "non rientra"
        limit = euros(thresholds.limit_cents(children))
        large = " prevista per le famiglie numerose" if thresholds.large_family(children) else ""
        lines.append(f"Con un ISEE di {euros(isee_cents)} {verdict} nella soglia di {limit}{large}.")
    lines.append(rules["disagio_fisico"])
    return "\n".join(lines)


# Issue 16: the data a customer can correct ("scusi ho sbagliato..."), as the correction names them.
CORRECTABLE_DATA: dict[str, str] = {
    "customer_code": "il codice cliente",
    "fiscal_code": "il codice fiscale",
    "supply_point": "il codice POD o PDR",
    "city": "il comune",
    "bill_id": "la bolletta",
    "new_due_date": "la nuova data di scadenza",
    "payment_date": "la data di pagamento",
    "installment_count": "il numero di rate",
    "meter_reading": "la lettura",
}


# --------------------------------------------------------------------------- self-service (issue 12)
def thousands(value: int) -> str:
    """'12.345': a meter reading the Italian way."""
    return f"{value:,}".replace(",", ".")


def meter_registers(registers: Mapping[str, int], unit: str) -> str:
    """'12.345 m³' or 'F1 4.300, F2 3.300, F3 5.100 kWh'."""
    if list(registers) == ["total"]:
        return f"{thousands(registers['total'])} {unit}"
    return ", ".join(f"{name} {thousands(registers[name])}" for name in sorted(registers)) + f" {unit}"


def reading_summary(supply: str, registers: Mapping[str, int], unit: str) -> str:
    return f"lettura del contatore {supply} {meter_registers(registers, unit)}, più alta del consumo abituale"


PAYMENT_METHOD_NAMES = {
    "domiciliazione": "addebito diretto su conto",
    "pagopa": "pagoPA",
    "carta": "carta",
    "bollettino": "bollettino postale",
    "bonifico": "bonifico",
    "sportello": "sportello",
}


def payment_methods(methods: Iterable[Mapping[str, str]]) -> str:
    return bullets(f"{m['label']}: {m['where']}" for m in methods)


def payments(found: Iterable[Mapping[str, Any]]) -> str:
    """One line per registered payment: bill, amount, date, method."""
    return bullets(
        f"bolletta {p['bill_id']} di {euros(p['amount_cents'])}: pagata "
        f"{italian_date(date.fromisoformat(p['paid_on']), 'il')} "
        f"con {PAYMENT_METHOD_NAMES.get(p['method'], p['method'])}"
        for p in found
    )


def payment_notice(notice: Mapping[str, Any]) -> str:
    """The pagoPA data of one bill."""
    return (
        f"bolletta {notice['bill_id']} di {euros(notice['amount_cents'])}, scadenza "
        f"{italian_date(date.fromisoformat(notice['due_date']))}: codice avviso {notice['notice_code']}, "
        f"codice fiscale dell'ente {notice['creditor_tax_code']}"
    )


def complaint_summary(category_label: str, text: str, limit: int = 160) -> str:
    shown = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return f"reclamo per «{category_label}»: «{shown}»"


def answer_due(day: date) -> str:
    """'entro il 26 dicembre 2026'."""
    return italian_date(day, "entro il")


def last_reading(last: Mapping[str, Any] | None, unit: str) -> str:
    """'F1 4.210, F2 3.180, F3 5.020 kWh del 27 ottobre 2026', or that there is none."""
    if not last:
        return "nessuna lettura precedente"
    return f"{meter_registers(last['registers'], unit)} {italian_date(date.fromisoformat(last['read_on']), 'del')}"


# --------------------------------------------------------------------------- bill copy and explanation (issue 12)
BILL_ISSUER = "Servizio clienti luce e gas"  # the PDF's heading (the operator's name goes here)
SUPPLY_TITLES = {"luce": "Energia elettrica", "gas": "Gas naturale"}
READING_SOURCES = {"actual": "lettura reale del distributore", "estimated": "lettura stimata"}
BILL_STATUSES = {"open": "da pagare", "arrears": "non pagata, in sollecito", "paid": "pagata"}


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def bill_period(bill: Mapping[str, Any]) -> str:
    """'dal 8 settembre 2026 al 6 novembre 2026' (empty when the bill does not say)."""
    if not bill.get("period_start") or not bill.get("period_end"):
        return ""
    return f"{italian_date(_day(bill['period_start']), 'dal')} {italian_date(_day(bill['period_end']), 'al')}"


def quantity(value: int, unit: str) -> str:
    """'1.250 kWh'."""
    return f"{thousands(value)} {unit}"


def bill_month_button(bill: Mapping[str, Any]) -> str:
    """'Luce 11/26 182,40 €': a bill of the history on a button (the month its period ends)."""
    end = _day(bill.get("period_end") or bill["issue_date"])
    return f"{bill['supply'].capitalize()} {end.month:02d}/{end.year % 100:02d} {euros(bill['amount_cents'])}"


def bill_document_file(bill: Mapping[str, Any]) -> str:
    """'bolletta-F100001-01.pdf': the name the customer's phone or browser saves."""
    return f"bolletta-{bill['id']}.pdf"


def bill_document(
    bill: Mapping[str, Any], customer_name: str, customer_code: str, today: date
) -> tuple[str, list[tuple[str, str]], str]:
    """Title, rows (label, value) and closing note of a bill's PDF copy (bot/billing/pdf.py)."""
    unit = bill.get("unit") or ""
    point = bill.get("pod") or bill.get("pdr") or ""
    rows = [
        ("Intestatario", customer_name),
        ("Codice cliente", customer_code),
        ("Fornitura", SUPPLY_TITLES.get(bill["supply"], bill["supply"])),
        ("POD" if bill.get("pod") else "PDR", point),
        ("Periodo di fatturazione", bill_period(bill) or "-"),
        ("Data di emissione", italian_date(_day(bill["issue_date"]))),
        ("Scadenza", italian_date(_day(bill["due_date"]))),
        ("Importo totale", euros(bill["amount_cents"])),
    ]
    if bill.get("adjustment_cents"):
        rows.append(("di cui conguaglio", euros(bill["adjustment_cents"])))
    if bill.get("reading_start") is not None and bill.get("reading_end") is not None:
        rows.append(("Lettura iniziale", quantity(bill["reading_start"], unit)))
        source = READING_SOURCES.get(bill.get("reading_source") or "", "")
        rows.append(("Lettura finale", quantity(bill["reading_end"], unit) + (f" ({source})" if source else "")))
    if bill.get("consumption") is not None:
        rows.append(("Consumo fatturato", quantity(bill["consumption"], unit)))
    status = BILL_STATUSES.get(bill["status"], bill["status"])
    if bill["status"] == "paid" and bill.get("paid_on"):
        status += " " + italian_date(_day(bill["paid_on"]), "il")
    rows.append(("Stato", status))
    title = f"Copia della bolletta n. {bill['id']}"
    note = f"Copia dei dati della bolletta, prodotta su richiesta del cliente {italian_date(today, 'il')}."
    return title, rows, note


def _change(percent: int) -> str:
    return f"{percent:+d}{NBSP}%".replace("-", "−") if percent else "invariato"


def bill_explanation(comparison: Mapping[str, Any]) -> str:
    """Why a bill is what it is, with the figures: against the average of the earlier bills of
    the supply, the consumption, an estimated reading, a conguaglio (the backend's reasons)."""
    bill, reasons = comparison["bill"], set(comparison["reasons"])
    unit = bill.get("unit") or ""
    count = len(comparison["previous"])
    lines = []
    if "no_history" in reasons:
        lines.append("Non ci sono bollette precedenti della stessa fornitura con cui confrontarla.")
    else:
        earlier = "della bolletta precedente" if count == 1 else f"delle {count} bollette precedenti"
        lines.append(
            f"Importo: {euros(bill['amount_cents'])}, contro una media {earlier} di "
            f"{euros(comparison['average_previous_cents'])} ({_change(comparison['difference_percent'])})."
        )
    if bill.get("consumption") is not None and comparison.get("average_previous_consumption"):
        lines.append(
            f"Consumo fatturato: {quantity(bill['consumption'], unit)}"
            + (f" {bill_period(bill)}" if bill_period(bill) else "")
            + f", contro una media di {quantity(comparison['average_previous_consumption'], unit)} "
            f"({_change(comparison['consumption_difference_percent'])})."
        )
    if "adjustment" in reasons:
        estimated = comparison.get("previous_estimated") or 0
        before = (
            f"le {estimated} bollette precedenti, calcolate su letture stimate,"
            if estimated > 1
            else "le bollette precedenti"
        )
        part = f" Il conguaglio vale {euros(bill['adjustment_cents'])}." if bill.get("adjustment_cents") else ""
        lines.append(
            f"È una bolletta di conguaglio: con la lettura reale del contatore ricalcola i consumi che {before} "
            f"avevano sottostimato.{part}"
        )
    elif "higher_consumption" in reasons:
        lines.append("La differenza viene soprattutto dal consumo più alto nel periodo.")
    if "estimated_reading" in reasons:
        lines.append(
            "Questa bolletta si basa su una lettura stimata, non su quella reale: se ha consumato meno, "
            "la lettura del contatore corregge il calcolo."
        )
    if "not_higher" in reasons and "adjustment" not in reasons:
        lines.append("Rispetto alle bollette precedenti l'importo è in linea, senza aumenti particolari.")
    return bullets(lines)


# the web service's answer to a bill link that no longer works (bot/web/app.py)
DOWNLOAD_PAGES = {
    "link_expired": (
        "Link scaduto",
        "Per la Sua sicurezza il link alla bolletta vale pochi minuti ed è scaduto. "
        "Chieda di nuovo la copia della bolletta all'assistente: Le manderà un link nuovo.",
    ),
    "link_invalid": (
        "Link non valido",
        "Il link alla bolletta non è valido: forse è stato copiato solo in parte. "
        "Chieda di nuovo la copia della bolletta all'assistente.",
    ),
    "unavailable": (
        "Servizio non disponibile",
        "In questo momento non riusciamo a recuperare la bolletta. Riprovi tra qualche minuto "
        "o la chieda di nuovo all'assistente.",
    ),
}


def bill_caption(bill: Mapping[str, Any]) -> str:
    """The caption under a bill's PDF on WhatsApp: 'Bolletta luce n. F100001-01, 182,40 €,
    scadenza 1º dicembre 2026'."""
    return (
        f"Bolletta {SUPPLY_NAMES.get(bill['supply'], bill['supply'])} n. {bill['id']}, "
        f"{euros(bill['amount_cents'])}, scadenza {italian_date(_day(bill['due_date']))}"
    )


# What helps after a bill's explanation: (the line, the button's title, its payload).
EXPLANATION_OFFERS = {
    "reading": (
        "comunicare l'autolettura: le prossime bollette useranno i consumi reali, non stimati",
        "Autolettura",
        "/submit_meter_reading",
    ),
    "installments_right": (
        "pagarla a rate: per una bolletta di conguaglio come questa è un Suo diritto (ARERA)",
        "Pagare a rate",
        "/request_installments",
    ),
    "installments": ("pagarla a rate", "Pagare a rate", "/request_installments"),
    "person": ("passarLa a un operatore, se qualcosa non Le torna", "Un operatore", "/request_human"),
}


# --------------------------------------------------------------------------- direct debit, paperless (issue 12)
def direct_debit_summary(iban_masked: str, holder: str, replacing: str | None = None) -> str:
    """The confirmation of a new mandate: the IBAN only masked."""
    text = f"attivo l'addebito diretto (domiciliazione SEPA) delle bollette sul conto {iban_masked}"
    text += f", intestato a {holder}"
    return text + (f", al posto del conto {replacing}" if replacing else "")


def revocation_summary(iban_masked: str, reference: str) -> str:
    return f"revoco la domiciliazione delle bollette sul conto {iban_masked} (mandato {reference})"


def paperless_summary(email: str) -> str:
    """The address in full, once, for the customer to check it (the console masks it)."""
    return f"invio delle bollette via e-mail all'indirizzo {email}, senza più la copia cartacea"
