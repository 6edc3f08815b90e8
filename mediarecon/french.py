"""Numbers, dates and order as a French reader expects them: 1 234 567,89 €, 12,5 %, 31/12/2025, and
"Défenseur des droits" before "Direction…" (the dashboard, the reports)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

NNBSP = "\u202f"  # the narrow no-break space French typography puts between thousands and before € or %

PARIS = ZoneInfo("Europe/Paris")

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def number(value, places: int = 0) -> str:
    if value is None:
        return "—"
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign, digits = ("-" if q < 0 else ""), f"{abs(q):.{places}f}"
    whole, _, frac = digits.partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + NNBSP.join(groups) + ("," + frac if frac else "")


def eur(value) -> str:
    return "—" if value is None else f"{number(value, 2)}{NNBSP}€"


def pct(value, places: int = 1) -> str:
    """A share (0.125) as 12,5 %."""
    return "—" if value is None else f"{number(Decimal(str(value)) * 100, places)}{NNBSP}%"


def date(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(PARIS)
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def month(value) -> str:
    """2025-03 or a date -> mars 2025."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.date(int(value[:4]), int(value[5:7]), 1)
    return f"{MONTHS[value.month - 1]} {value.year}"


def timestamp(seconds: float) -> str:
    """A Unix time as Paris time, to the second."""
    return dt.datetime.fromtimestamp(seconds, PARIS).strftime("%d/%m/%Y %H:%M:%S")


LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def collation_key(text: str | None) -> tuple[str, str]:
    """Sort key of a French name: accents, ligatures and case folded first (É with E, œ as oe), as a
    dictionary orders words; the exact text breaks ties, so the order is total and stable."""
    text = text or ""
    decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold(), text


FILTERS = {"datetime_fr": timestamp, "number": number, "eur": eur, "pct": pct, "date_fr": date, "month_fr": month}
