"""An advertiser's decision taken on the dashboard, written as a file of the admission_decisions drop source
(schemas/admission_decisions.py): the next nightly lands and validates it like a dropped file, so the
dashboard never writes to the warehouse, and a decision is never edited, only followed by another."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from schemas import admission_decisions

PARIS = ZoneInfo("Europe/Paris")
DECISIONS = ("admission", "ajournement", "réfaction", "rejet")
MAX_TEXT = 500


class DecisionError(ValueError):
    """The decision cannot be recorded as given; the message (French) says why."""


def _amount(text: str) -> str:
    """A French amount (`1 250,50`) as the drop's French CSV writes it, or DecisionError."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text or "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise DecisionError(f"montant de réfaction {text!r} : un montant en euros, par exemple 1250,50") from None
    if value <= 0 or value != value.quantize(Decimal("0.01")) or value >= Decimal("1e16"):
        raise DecisionError("montant de réfaction : positif, avec au plus deux décimales")
    return f"{value:.2f}".replace(".", ",")


def _text(value: str, what: str) -> str:
    value = " ".join((value or "").split())  # one line: no newline reaches the file
    if len(value) > MAX_TEXT:
        raise DecisionError(f"{what} : {MAX_TEXT} caractères au plus")
    return value


def record_decision(inbox: Path, purchase_order_id: str, decision: str, amount: str, reason: str, decided_by: str,
                    now: dt.datetime | None = None) -> Path:
    """Append one decision as a new file in `inbox` (the admission_decisions folder); never replaces one.
    A second decision on the same order within the same minute is refused: the minute is the decision's time."""
    if not re.fullmatch(r"\d{10}", purchase_order_id or ""):
        raise DecisionError("numéro de bon de commande invalide")
    if decision not in DECISIONS:
        raise DecisionError(f"décision {decision!r} : admission, ajournement, réfaction ou rejet")
    reason = _text(reason, "motif")
    if decision in ("réfaction", "rejet") and not reason:
        raise DecisionError("une réfaction ou un rejet doit être motivé (CCAP 11.10.2)")
    if decision != "réfaction" and (amount or "").strip():
        raise DecisionError("seule une réfaction a un montant")
    amount = _amount(amount) if decision == "réfaction" else ""
    at = (now or dt.datetime.now(dt.timezone.utc)).astimezone(PARIS)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(list(admission_decisions.HEADERS))
    w.writerow([purchase_order_id, decision, amount, reason, _text(decided_by, "auteur"), f"{at:%Y-%m-%d %H:%M}"])
    inbox.mkdir(parents=True, exist_ok=True)
    name = f"decision_tableau_de_bord_{purchase_order_id}_{at:%Y%m%d%H%M}.csv"
    part = inbox / f".{name}.part"  # hidden: a nightly starting meanwhile ignores it
    part.write_text(buf.getvalue(), encoding="utf-8")
    try:
        os.link(part, inbox / name)  # never over an existing decision
    except FileExistsError:
        raise DecisionError("une décision vient d'être enregistrée pour cette commande : réessayez dans une"
                            " minute") from None
    finally:
        part.unlink()
    return inbox / name
