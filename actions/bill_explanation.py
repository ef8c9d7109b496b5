""" "Why is this bill so high?" (issue 12): the bill against the earlier bills of its supply.

The backend compares (bot/rules/engine.py `compare_bill`, thresholds in policy.yml); the
customer reads the figures in plain Italian (bot/formatters.py `bill_explanation`) and what
helps: a self-reading when the bill is estimated or settles estimates, installments when the
bill can be paid in installments (for a conguaglio over 150 % of the estimates, ARERA's
right), and a person. The bill is chosen as for a copy (actions/bill_copy.py).
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.bill_copy import chosen_bill, history_slots, prepare
from actions.common import billing, customer_token
from actions.self_service import Events, SelfService
from bot import formatters
from bot.billing.client import BillingError, BillingUnavailable, run_blocking


async def offers(tracker: Tracker, bill: dict, reasons: set[str], previous_estimated: int) -> list[str]:
    """What helps with this bill (formatters.EXPLANATION_OFFERS keys), in that order."""
    found = []
    if reasons & {"estimated_reading", "adjustment"} or previous_estimated:
        found.append("reading")
    if bill["status"] in ("open", "arrears"):
        try:
            options = await run_blocking(billing().installment_options, bill["id"], customer_token(tracker))
        except BillingUnavailable:
            raise
        except BillingError:
            options = {"eligible": False}
        if options.get("eligible"):
            found.append("installments_right" if "adjustment" in reasons else "installments")
    found.append("person")
    return found


async def submit(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    bill, _ = await chosen_bill(tracker)
    if bill is None:
        dispatcher.utter_message(response="utter_history_bill_not_understood")
        return []
    comparison = await run_blocking(billing().bill_comparison, bill["id"], customer_token(tracker))
    dispatcher.utter_message(
        response="utter_bill_explanation",
        bill=formatters.bill_label(bill),
        explanation=formatters.bill_explanation(comparison),
    )
    helps = await offers(tracker, bill, set(comparison["reasons"]), comparison["previous_estimated"])
    dispatcher.utter_message(
        response="utter_bill_explanation_help",
        offers=formatters.bullets(formatters.EXPLANATION_OFFERS[key][0] for key in helps),
        buttons=[
            {"title": formatters.EXPLANATION_OFFERS[key][1], "payload": formatters.EXPLANATION_OFFERS[key][2]}
            for key in helps
        ],
    )
    return []


SERVICE = SelfService(slots=history_slots, submit=submit, prepare=prepare)
