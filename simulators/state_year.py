"""A synthetic, labelled year of the French State's media buying.

Deterministic by seed: same (seed, scale, year) -> same bytes. Scale 1.0 is one year of the framework
agreement (~300 campaigns, ~2 500 order lines, ~1 million ad-server rows). Every injected anomaly is
written to `ground_truth/anomalies.csv` with the entity key the warehouse must produce for it.

What it writes, as the senders would (formats in docs/input_formats.md):
  inbox/purchase_orders/       agency export of purchase orders (BDC), French CSV, UTF-8 with BOM
  inbox/order_lines/           agency export of order lines, French CSV, cp1252 (Excel on Windows)
  inbox/ad_server/             Campaign Manager 360 report files, one per advertiser and month
  inbox/regie_reports/         régie campaign reports (bilans), French CSV, one per seller and campaign
  inbox/email_deliverability/  e-mail router statistics per ISP and day, one per month
  inbox/forbidden_campaigns/   SIG's list of forbidden (withdrawn) campaigns
  inbox/penalty_events/        SIG's record of penalty events (poor execution, force majeure)
  inbox/planned_pauses/        the agency's planned pauses of campaign flights (must raise no drop)
  inbox/einvoices/             e-mailed copies of some invoices (Factur-X PDF)
  inbox/invoice_exports/       two régies' own exports of their invoices (XLSX, French CSV)
  inbox/brand_safety/          the advertisers' brand-safety exclusion lists (sites, domains, site groups)
  inbox/admission_decisions/   the advertisers' decisions on their orders (admission, réfaction, rejet…)
  chorus/invoices.json         the régies' invoices and credit notes as Chorus Pro holds them, with the
                               deposited UBL / CII / Factur-X documents (served by the simulator)
Reference data (advertisers, media sellers) is read from the dbt seeds, so both sides agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import holidays
import numpy as np

from mediarecon.paths import read_seed
from simulators.chorus_invoices import InvoiceYear
from mediarecon.vocabulary import check_finding_type

CENT = Decimal("0.01")
VAT_RATE = Decimal("0.20")

OFFLINE_MEDIA = ("tv", "radio", "press", "outdoor", "cinema")
DIGITAL_MEDIA = ("digital_display", "digital_video", "social", "search")

# (UO code, fee %) by media type; mirrors the fee_schedule seed.
UO_BY_MEDIA = {
    "tv": ("02-01", "2.50"), "radio": ("02-01", "2.50"), "press": ("02-01", "3.00"),
    "outdoor": ("02-01", "3.00"), "cinema": ("02-01", "3.00"),
    "digital_display": ("02-02", "4.50"), "digital_video": ("02-02", "4.50"),
    "social": ("02-03", "5.00"), "search": ("02-04", "5.00"), "email": ("02-05-01", "0.00"),
}
# buying unit, pricing basis, quantity range, unit gross price range (per unit or per thousand)
ECONOMICS = {
    "tv": ("spot", "unit", (10, 60), (8000, 40000)),
    "radio": ("spot", "unit", (50, 300), (400, 2500)),
    "press": ("insertion", "unit", (1, 8), (5000, 40000)),
    "outdoor": ("face", "unit", (50, 400), (250, 1200)),
    "cinema": ("screening", "unit", (20, 200), (150, 700)),
    "digital_display": ("impression", "cpm", (1_000_000, 12_000_000), (4, 12)),
    "digital_video": ("impression", "cpm", (500_000, 6_000_000), (10, 25)),
    "social": ("impression", "cpm", (1_000_000, 15_000_000), (3, 9)),
    "search": ("click", "cpc", (5_000, 60_000), (0.4, 1.8)),
    "email": ("email", "cpm", (200_000, 2_000_000), (20, 60)),
}
ISP_SHARES = {
    "orange.fr": 0.22, "wanadoo.fr": 0.06, "free.fr": 0.14, "sfr.fr": 0.10, "laposte.net": 0.06,
    "gmail.com": 0.20, "yahoo.fr": 0.06, "hotmail.fr": 0.10, "outlook.fr": 0.06,
}
THEMES = [
    "Sécurité routière", "Prévention canicule", "Vaccination grippe", "Recrutement des armées",
    "Rénovation énergétique", "Moi(s) sans tabac", "Dépistage du cancer du sein", "Service civique",
    "Biodiversité au quotidien", "Jeu responsable", "Consommation d'alcool", "Déclaration des revenus",
    "Protection des données personnelles", "Lutte contre le harcèlement scolaire", "France Rénov'",
    "Sobriété énergétique", "Aide à l'autonomie", "Droits des usagers", "Sûreté aérienne",
    "Alimentation et agriculture", "Fête de la musique", "Journées du patrimoine", "Cybermalveillance",
]
CM360_FIELDS = [
    "Date", "Advertiser", "Advertiser ID", "Campaign", "Campaign External ID", "Placement",
    "Placement ID", "Placement External ID", "Site (CM360)", "Creative", "Creative ID",
    "Impressions", "Clicks", "Active View: Viewable Impressions", "Media Cost",
]
# Ad servers do not measure viewability on these sellers' inventory: the report shows "-".
UNMEASURED_SELLERS = {"SEL-META", "SEL-GOOG"}
# Floodlight conversions and rich-media video metrics, in the reports of advertisers that tag their sites;
# the others' reports keep the layout above (the columns are optional).
CONVERSION_FIELDS = [
    "Total Conversions", "Click-through Conversions", "View-through Conversions", "Total Revenue",
    "Click-through Revenue", "View-through Revenue", "Video Plays", "Video Completions",
]
NO_FLOODLIGHT = {"DDD", "CNIL", "DILA", "DGAC", "MC"}
# Objectives an order line may state, by media type (fct_campaign_objectives' indicators)
OBJECTIVES_BY_MEDIA = {
    "digital_display": ("cpm_max", "ctr_min", "cpa_max"),
    "digital_video": ("cpm_max", "completion_rate_min"),
    "social": ("cpm_max", "cpa_max"),
    "search": ("cpc_max", "ctr_min", "cpa_max"),
}
# labelled misses per indicator and year at scale 1 (at least one each)
RATE_CAP = Decimal("99.90")  # the highest rate objective written (percent)
OBJECTIVE_MISSES = {"cpm_max": 4, "cpc_max": 3, "cpa_max": 4, "ctr_min": 3, "completion_rate_min": 3,
                    "volume_min": 4, "regie_cpa_max": 2}
# Results a régie declares in its bilan (#19), for the media whose régies measure them (post-campaign
# studies: no click on a spot, so post-impression only); the régie's other bilans keep today's layout
REGIE_RESULT_FIELDS = ["Conversions", "Conversions post-clic", "Conversions post-impression", "Chiffre d'affaires HT",
                       "Chiffre d'affaires post-clic HT", "Chiffre d'affaires post-impression HT"]
REGIE_MEASURED_MEDIA = ("tv", "radio", "cinema")
OBJECTIVE_HEADERS = ["Objectif volume", "Objectif CPM", "Objectif CPC", "Objectif CPA", "Objectif CTR (%)",
                     "Objectif taux de complétion (%)", "Modèle d'attribution", "Fenêtre d'attribution (jours)"]
ATTRIBUTION_FR = {"last_click": "dernier_clic", "post_impression": "post_impression"}
# The sites each digital régie sells (as CM360's Site names them; seed site_groups gives their groups) and the
# creatives' formats by media type (CM360's Creative Pixel Size)
SITES_BY_SELLER = {
    "SEL-GOOG": ("google.fr", "youtube.com"), "SEL-META": ("facebook.com", "instagram.com"),
    "SEL-TEADS": ("lemonde.fr", "lefigaro.fr", "20minutes.fr", "ouest-france.fr"),
    "SEL-PMS": ("femmeactuelle.fr", "capital.fr", "geo.fr", "programme-tv.net"),
}
FORMATS_BY_MEDIA = {"digital_display": ("300x250", "728x90", "300x600", "320x50"), "digital_video": ("640x360",),
                    "social": ("1080x1080", "1080x1920"), "search": ("Annonce texte",)}
# brand-safety breaches: (exclusion kind, the value listed, the site delivered on)
BRAND_SAFETY_BREACHES = [("site", "forum-anonyme.example", "forum-anonyme.example"),
                         ("domaine", "paris-turf-bonus.example", "www.paris-turf-bonus.example"),
                         ("groupe", "jeux_d_argent", "casino-en-ligne.example")]
# CCAP 11.10.2: days an advertiser has to decide on an invoiced order (the var admission_delay_days' default)
ADMISSION_DELAY_DAYS = 30


def sql_round(x: float, scale: int = 2) -> Decimal:
    """The warehouse's rounding of a double (macros/portable_arithmetic.sql, to_decimal): half away from
    zero on x x 10^scale, in IEEE double as both engines compute it."""
    import math

    v = x * 10 ** scale
    r = math.floor(abs(v))
    if abs(v) - r >= 0.5:
        r += 1
    return Decimal(r if v >= 0 else -r) / 10 ** scale


def money(x) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def fr(d: Decimal | int) -> str:
    """French decimal: comma as decimal mark, no thousands separator."""
    return str(d).replace(".", ",")


def fr_date(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


@dataclass
class OrderLine:
    order_line_id: str
    purchase_order_id: str
    line_number: int
    campaign_id: str
    seller: dict
    media_type: str
    uo_code: str
    buying_unit: str
    pricing_basis: str
    quantity: int
    unit_gross_price: Decimal
    gross: Decimal
    discounts: dict[str, Decimal]
    net: Decimal
    fee_pct: Decimal
    start: dt.date
    end: dt.date
    delivered: int = 0
    placements: list = field(default_factory=list)

    @property
    def vat(self) -> Decimal:
        return money(self.net * VAT_RATE)

    @property
    def net_unit_price(self) -> Decimal:
        """Net price per delivered unit (impression, click, spot...), exact."""
        return self.net / self.quantity


@dataclass
class Campaign:
    campaign_id: str
    name: str
    advertiser: dict
    start: dt.date
    end: dt.date
    cm360_advertiser_id: int
    router_campaign_id: int
    lines: list[OrderLine] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    forbidden_since: dt.date | None = None

    @property
    def digital_lines(self):
        return [ln for ln in self.lines if ln.media_type in DIGITAL_MEDIA]


@dataclass
class GenerationSummary:
    out: Path
    campaigns: int
    purchase_orders: int
    order_lines: int
    ad_server_rows: int
    regie_rows: int
    email_rows: int
    anomalies: dict[str, int]
    files: int


class StateYearGenerator:
    def __init__(self, seed: int, scale: float, year: int = 2025):
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.seed, self.scale, self.year = seed, scale, year
        self.rng = np.random.default_rng(seed)
        self.pauses: dict[str, tuple[dt.date, dt.date]] = {}
        self.advertisers = read_seed("advertisers")
        self.sellers = read_seed("media_sellers")
        self.sellers_by_media = defaultdict(list)
        for s in self.sellers:
            self.sellers_by_media[s["media_type"]].append(s)
        self.public_holidays = set(holidays.France(years=year).keys())
        self.campaigns: list[Campaign] = []
        self.labels: list[dict] = []
        self._po_seq = 0
        self._placement_seq = 0
        self._creative_seq = 0
        # rows per output file, keyed by file path relative to inbox
        self.ad_rows: dict[str, list[list]] = defaultdict(list)
        self.objectives: dict[str, dict] = {}  # order line id -> its objective columns as written
        self.regie_rates: dict[str, tuple] = {}  # order line id -> conversions per unit, revenue per conversion
        self.regie_results: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))  # as the warehouse sums them
        self.regie_rows: dict[str, list[list]] = defaultdict(list)
        self.email_rows: dict[str, list[list]] = defaultdict(list)

    # ------------------------------------------------------------------ helpers
    def _count(self, per_year: int, minimum: int = 2) -> int:
        return max(minimum, round(per_year * self.scale))

    def _uniform(self, lo, hi) -> float:
        return float(self.rng.uniform(lo, hi))

    def _pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def _days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]

    def _day_weights(self, days, weekend_factor: float, campaign_id: str | None = None) -> np.ndarray:
        pause = self.pauses.get(campaign_id)
        w = np.array(
            [
                (weekend_factor if d.weekday() >= 5 else 1.0)
                * (0.75 if d in self.public_holidays else 1.0)
                for d in days
            ]
        )
        w = w * self.rng.uniform(0.92, 1.08, size=len(days))
        if pause:
            paused = np.array([pause[0] <= d <= pause[1] for d in days])
            if not paused.all():  # the line delivers its whole quantity on its other days
                w[paused] = 0.0
        return w

    def _label(self, anomaly_type, entity_key, first, last, amount, note):
        self.labels.append(
            {
                "anomaly_type": check_finding_type(anomaly_type),
                "entity_key": entity_key,
                "first_date": first.isoformat(),
                "last_date": last.isoformat(),
                "amount_at_stake_eur": str(money(amount)),
                "note": note,
            }
        )

    # ------------------------------------------------------------------ plan
    def plan(self):
        n_campaigns = self._count(300, minimum=12)
        year_start = dt.date(self.year, 1, 20)
        latest_start = dt.date(self.year, 9, 15)
        for i in range(n_campaigns):
            advertiser = self._pick(self.advertisers)
            start = year_start + dt.timedelta(days=int(self.rng.integers((latest_start - year_start).days)))
            weeks = int(self.rng.integers(6, 17))
            end = min(start + dt.timedelta(days=7 * weeks - 1), start + dt.timedelta(days=119),
                      dt.date(self.year, 12, 10))
            theme = self._pick(THEMES)
            c = Campaign(f"CMP-{self.year}-{i + 1:04d}", f"{theme} {self.year}", advertiser, start, end,
                         cm360_advertiser_id=7_000_000 + self.advertisers.index(advertiser),
                         router_campaign_id=40_000 + i)
            media = list(self.rng.choice(DIGITAL_MEDIA, size=int(self.rng.integers(2, 8)), replace=True))
            media += list(self.rng.choice(OFFLINE_MEDIA, size=int(self.rng.integers(0, 7)), replace=True))
            if self.rng.random() < 0.3:
                media.append("email")
            self._plan_orders(c, media)
            self.campaigns.append(c)
        self._plan_coordination()

    def _plan_coordination(self):
        """UO 01-01: the SIG orders the year's coordination and steering (monthly flat fee, invoiced by the
        agency each month) on a purchase order without media lines."""
        sig = next(a for a in self.advertisers if a["advertiser_kind"] == "coordinator")
        monthly = Decimal(next(r for r in read_seed("fee_schedule") if r["uo_code"] == "01-01")["fee_unit_price_eur"])
        c = Campaign(f"CMP-{self.year}-0000", f"Coordination et pilotage transversal {self.year}", sig,
                     dt.date(self.year, 1, 1), dt.date(self.year, 12, 31), cm360_advertiser_id=0, router_campaign_id=0)
        self._po_seq += 1
        net = monthly * 12
        c.orders.append({
            "purchase_order_id": f"{self.year % 100:02d}{self._po_seq:08d}", "order_date": dt.date(self.year, 1, 2),
            "uo_code": "01-01", "gross": net, "net": net, "vat": money(net * VAT_RATE), "fee_pct": Decimal("0"),
            "fee": Decimal("0.00"), "start": c.start, "end": c.end, "monthly_fee": monthly,
        })
        self.campaigns.append(c)

    def _plan_orders(self, c: Campaign, media: list[str]):
        by_uo = defaultdict(list)
        for m in media:
            by_uo[UO_BY_MEDIA[m][0]].append(m)
        for uo_code in sorted(by_uo):
            self._po_seq += 1
            po_id = f"{self.year % 100:02d}{self._po_seq:08d}"
            order_date = c.start - dt.timedelta(days=int(self.rng.integers(8, 20)))
            lines = []
            for n, m in enumerate(by_uo[uo_code], start=1):
                lines.append(self._plan_line(c, po_id, n, m))
            c.lines.extend(lines)
            net = sum(ln.net for ln in lines)
            gross = sum(ln.gross for ln in lines)
            fee_pct = lines[0].fee_pct
            c.orders.append({
                "purchase_order_id": po_id, "order_date": order_date, "uo_code": uo_code,
                "gross": gross, "net": net, "vat": sum(ln.vat for ln in lines),
                "fee_pct": fee_pct, "fee": money(net * fee_pct / 100),
                "start": min(ln.start for ln in lines), "end": max(ln.end for ln in lines),
            })

    def _plan_line(self, c: Campaign, po_id: str, n: int, media_type: str) -> OrderLine:
        unit, basis, (qlo, qhi), (plo, phi) = ECONOMICS[media_type]
        seller = self._pick(self.sellers_by_media[media_type])
        qty = int(self.rng.integers(qlo, qhi + 1))
        if basis == "cpm":
            qty = qty // 1000 * 1000
        unit_price = money(self._uniform(plo, phi))
        gross = money(unit_price * qty / (1000 if basis == "cpm" else 1))
        # Successive discounts (cascade), each on what is left after the previous one.
        rates = {
            "volume": Decimal(str(round(self._uniform(0, 0.2), 3))),
            "public_interest": Decimal(str(round(self._uniform(0.2, 0.5), 3)))
            if media_type in ("tv", "radio", "press") else Decimal("0"),
            "professional": Decimal("0.15") if media_type in OFFLINE_MEDIA else Decimal("0"),
            "cumul_mandats": Decimal(str(round(self._uniform(0, 0.05), 3))),
        }
        discounts, rest = {}, gross
        for k, r in rates.items():
            discounts[k] = money(rest * r)
            rest -= discounts[k]
        start, end = c.start, c.end
        if media_type in OFFLINE_MEDIA:  # offline bursts sit inside the campaign flight
            span = (c.end - c.start).days
            length = min(span, int(self.rng.integers(14, 35)))
            start = c.start + dt.timedelta(days=int(self.rng.integers(0, span - length + 1)))
            end = start + dt.timedelta(days=length)
        return OrderLine(
            order_line_id=f"{po_id}-{n:03d}", purchase_order_id=po_id, line_number=n,
            campaign_id=c.campaign_id, seller=seller, media_type=media_type,
            uo_code=UO_BY_MEDIA[media_type][0], buying_unit=unit, pricing_basis=basis,
            quantity=qty, unit_gross_price=unit_price, gross=gross, discounts=discounts,
            net=rest, fee_pct=Decimal(UO_BY_MEDIA[media_type][1]), start=start, end=end,
        )

    # ------------------------------------------------------------------ anomalies
    def choose_anomalies(self):
        """Disjoint sets of campaigns/lines so that each anomaly is the only thing wrong."""
        idx = list(self.rng.permutation(len(self.campaigns)))
        long_digital = [i for i in idx if self.campaigns[i].digital_lines
                        and (self.campaigns[i].end - self.campaigns[i].start).days >= 48]
        n_drop = min(self._count(10), len(long_digital) // 3)
        self.drop_campaigns = {self.campaigns[i].campaign_id for i in long_digital[:n_drop]}
        rest = [i for i in idx if self.campaigns[i].campaign_id not in self.drop_campaigns
                and self.campaigns[i].digital_lines]
        n_forbidden = min(self._count(5), len(rest) // 4)
        self.forbidden_campaigns = {self.campaigns[i].campaign_id for i in rest[:n_forbidden]}
        self.forbidden_negatives = {self.campaigns[i].campaign_id
                                    for i in rest[n_forbidden:2 * n_forbidden]}
        used = self.drop_campaigns | self.forbidden_campaigns
        self.email_drop_lines = set()
        email_lines = [ln for c in self.campaigns if c.campaign_id not in used for ln in c.lines
                       if ln.media_type == "email" and (ln.end - ln.start).days >= 41]
        for ln in email_lines[: self._count(5)]:
            self.email_drop_lines.add(ln.order_line_id)
        under_pool = [ln for c in self.campaigns if c.campaign_id not in used for ln in c.lines
                      if ln.order_line_id not in self.email_drop_lines]
        order = self.rng.permutation(len(under_pool))
        n_under = self._count(25)
        # a few offline lines run not at all (the régie still invoices them): under-delivered too
        offline = [under_pool[int(j)].order_line_id for j in order if under_pool[int(j)].media_type in OFFLINE_MEDIA]
        self.undelivered_lines = set(offline[: self._count(4)])
        self.under_lines = {under_pool[int(j)].order_line_id for j in order[:n_under]} | self.undelivered_lines
        # lines just inside the tolerance: must NOT be flagged
        self.near_lines = {under_pool[int(j)].order_line_id for j in order[n_under:2 * n_under]
                           } - self.undelivered_lines
        self.orphan_campaigns = [self.campaigns[i] for i in rest[2 * n_forbidden:]
                                 ][: self._count(8)]
        # orders whose last digital line keeps delivering a few days after the order's end: late delivery
        # (the last one has a force-majeure waiver and owes nothing); and some poor-execution breaches
        busy = (self.under_lines | self.near_lines | self.email_drop_lines
                | {ln.order_line_id for c in self.orphan_campaigns for ln in c.lines})
        late = []
        for i in idx:
            c = self.campaigns[i]
            if c.campaign_id in used or c.campaign_id in self.forbidden_negatives:
                continue
            for o in c.orders:
                last = [ln for ln in c.digital_lines if ln.purchase_order_id == o["purchase_order_id"]
                        and ln.end == o["end"] and ln.order_line_id not in busy]
                if last:
                    late.append((o, last[0]))
        n_late = self._count(5)
        self.late_lines = {ln.order_line_id: (o, int(self.rng.integers(1, 5)), k == n_late)
                           for k, (o, ln) in enumerate(late[: n_late + 1])}
        self.penalty_events = []
        all_orders = [o for c in self.campaigns for o in c.orders if o["uo_code"] != "01-01"]
        for k, j in enumerate(self.rng.permutation(len(all_orders))[: self._count(3)]):
            o = all_orders[int(j)]
            # the first one breaches three times at level 3: its penalty meets the 25 % cap
            for n, level in enumerate([3, 3, 3] if k == 0 else [int(self.rng.integers(1, 4))], start=1):
                self.penalty_events.append([o["purchase_order_id"], fr_date(o["end"] - dt.timedelta(days=n)),
                                            "mauvaise_execution", level, f"Manquement n° {n} de niveau {level}"])

    def choose_pauses(self):
        """Planned pauses (a silence period in the media plan) of a few campaigns that carry no other
        anomaly: delivery stops for 5-9 days and the full quantity is delivered on the other days. The
        pause file says so, so no drop may be found. A separate random stream keeps the rest unchanged."""
        rng = np.random.default_rng([self.seed, 7])
        busy_lines = (self.under_lines | self.near_lines | self.email_drop_lines | self.undelivered_lines
                      | set(self.late_lines))
        busy = (self.drop_campaigns | self.forbidden_campaigns | self.forbidden_negatives
                | {c.campaign_id for c in self.orphan_campaigns})
        pool = [c for c in self.campaigns if c.campaign_id not in busy and c.digital_lines
                and (c.end - c.start).days >= 56 and not any(ln.order_line_id in busy_lines for ln in c.lines)]
        self.pauses = {}
        for j in rng.permutation(len(pool))[: self._count(4)]:
            c = pool[int(j)]
            first = c.start + dt.timedelta(days=int(rng.integers(28, (c.end - c.start).days - 14)))
            self.pauses[c.campaign_id] = (first, first + dt.timedelta(days=int(rng.integers(4, 9))))

    def _delivery_ratio(self, ln: OrderLine) -> float:
        if ln.order_line_id in self.undelivered_lines:
            return 0.0
        if ln.order_line_id in self.under_lines:
            return self._uniform(0.55, 0.82)
        if ln.order_line_id in self.near_lines:
            return self._uniform(0.93, 0.98)
        return self._uniform(1.0, 1.05)

    # ------------------------------------------------------------------ delivery
    def deliver(self):
        for c in self.campaigns:
            drop = None
            if c.campaign_id in self.drop_campaigns:
                first = c.start + dt.timedelta(days=int(self.rng.integers(21, (c.end - c.start).days - 6)))
                length = int(self.rng.integers(2, 5))
                factor = float(self._pick([0.0, 0.15, 0.3, 0.4]))
                drop = (first, first + dt.timedelta(days=length - 1), factor)
            lost_cost = Decimal("0")
            for ln in c.lines:
                if ln.media_type in DIGITAL_MEDIA:
                    lost_cost += self._deliver_digital(c, ln, drop)
                    if ln.order_line_id in self.late_lines:
                        self._deliver_late(c, ln, *self.late_lines[ln.order_line_id])
                elif ln.media_type == "email":
                    self._deliver_email(c, ln)
                else:
                    self._deliver_offline(c, ln)
                if ln.order_line_id in self.under_lines:
                    self._label("under_delivery", ln.order_line_id, ln.start, ln.end,
                                (ln.quantity - ln.delivered) * ln.net_unit_price,
                                f"{ln.media_type} line delivered {ln.delivered} of {ln.quantity} {ln.buying_unit}s")
            if drop:
                self._label("delivery_drop", c.campaign_id, drop[0], drop[1], lost_cost,
                            f"campaign daily volume cut to {int(drop[2] * 100)} % of plan")
            if c.campaign_id in self.forbidden_campaigns:
                self._deliver_after_forbidden(c)
        for i, c in enumerate(self.orphan_campaigns):
            # half carry no external id, half a reference to an order line that does not exist
            self._deliver_orphan_placement(c, "" if i % 2 == 0 else f"{c.digital_lines[0].purchase_order_id}-999")

    def _new_placements(self, c: Campaign, ln: OrderLine, n: int):
        out = []
        for k in range(n):
            self._placement_seq += 1
            creatives = []
            for j in range(int(self.rng.integers(2, 5))):
                self._creative_seq += 1
                creatives.append((f"{c.name} - visuel {j + 1}", 150_000_000 + self._creative_seq))
            out.append({
                "placement_id": 300_000_000 + self._placement_seq,
                "name": f"{ln.seller['media_seller_name']} - {ln.media_type} - {c.campaign_id} - P{k + 1}",
                "creatives": creatives,
            })
        return out

    def _cm360_file(self, c: Campaign, day: dt.date) -> str:
        return f"ad_server/cm360_{c.advertiser['short_name'].lower()}_{day:%Y-%m}.csv"

    def _emit_cm360(self, c, ln, placement, creative, day, imps, clicks, external_id, unit_cost):
        """One report row; media cost = billed units (clicks for CPC, else impressions) x unit cost."""
        viewable = "-" if ln.seller["media_seller_id"] in UNMEASURED_SELLERS else int(imps * 0.62)
        cost = money((clicks if ln.pricing_basis == "cpc" else imps) * unit_cost)
        row = [day.isoformat(), c.advertiser["advertiser_name"], c.cm360_advertiser_id, c.name, c.campaign_id,
               placement["name"], placement["placement_id"], external_id,
               ln.seller["media_seller_name"], creative[0], creative[1], int(imps), int(clicks),
               viewable, cost]
        self.ad_rows[self._cm360_file(c, day)].append(row)
        return cost

    def _deliver_digital(self, c: Campaign, ln: OrderLine, drop) -> Decimal:
        ln.placements = self._new_placements(c, ln, int(self.rng.integers(2, 5)))
        days = self._days(ln.start, ln.end)
        w = self._day_weights(days, weekend_factor=0.75, campaign_id=c.campaign_id)
        planned_w = w.copy()
        if drop:
            for i, d in enumerate(days):
                if drop[0] <= d <= drop[1]:
                    w[i] *= drop[2]
        ratio = self._delivery_ratio(ln)
        target = int(round(ln.quantity * ratio * w.sum() / planned_w.sum()))
        cells = [(pi, ci) for pi, p in enumerate(ln.placements) for ci in range(len(p["creatives"]))]
        cell_w = self.rng.uniform(0.5, 1.5, size=len(cells))
        p = np.outer(w, cell_w).ravel()
        counts = self.rng.multinomial(target, p / p.sum()).reshape(len(days), len(cells))
        ctr = self._uniform(0.02, 0.05) if ln.pricing_basis == "cpc" else self._uniform(0.001, 0.006)
        for i, d in enumerate(days):
            for k, (pi, ci) in enumerate(cells):
                n = int(counts[i, k])
                if n == 0:
                    continue
                if ln.pricing_basis == "cpc":
                    clicks, imps = n, int(n / ctr)
                else:
                    imps, clicks = n, int(self.rng.binomial(n, ctr))
                pl = ln.placements[pi]
                self._emit_cm360(c, ln, pl, pl["creatives"][ci], d, imps, clicks, ln.order_line_id,
                                 ln.net_unit_price)
        ln.delivered = int(counts.sum())
        if not drop:
            return Decimal("0")
        planned = ln.quantity * ratio
        lost_units = sum(planned * planned_w[i] / planned_w.sum() - counts[i].sum()
                         for i, d in enumerate(days) if drop[0] <= d <= drop[1])
        return Decimal(str(max(lost_units, 0.0))) * ln.net_unit_price

    def _deliver_late(self, c: Campaign, ln: OrderLine, o: dict, days_late: int, waived: bool):
        """The line keeps delivering `days_late` days after its order's end date."""
        pl = ln.placements[0]
        daily = max(int(ln.quantity / max((ln.end - ln.start).days, 1) * 0.5), 10)
        for k in range(1, days_late + 1):
            day = o["end"] + dt.timedelta(days=k)
            ctr = 0.03 if ln.pricing_basis == "cpc" else 0.003
            clicks, imps = (daily, int(daily / ctr)) if ln.pricing_basis == "cpc" else (int(daily * ctr), daily)
            self._emit_cm360(c, ln, pl, pl["creatives"][0], day, imps, clicks, ln.order_line_id, ln.net_unit_price)
            ln.delivered += daily
        if waived:
            self.penalty_events.append([o["purchase_order_id"], fr_date(o["end"] + dt.timedelta(days=1)),
                                        "force_majeure", "", "Indisponibilité de la plateforme (force majeure)"])
            return
        amount = o["net"] + o["fee"]
        penalty = min(amount * Decimal("0.05") * days_late, amount * Decimal("0.10"))
        self._label("late_delivery_penalty_due", o["purchase_order_id"], o["end"] + dt.timedelta(days=1),
                    o["end"] + dt.timedelta(days=days_late), penalty,
                    f"delivered {days_late} day(s) after the order's end on {o['end']}")

    def _deliver_after_forbidden(self, c: Campaign):
        """A self-service account re-activates a withdrawn campaign after SIG forbade it."""
        ln = c.digital_lines[0]
        c.forbidden_since = c.end + dt.timedelta(days=int(self.rng.integers(2, 7)))
        days = self._days(c.forbidden_since, c.forbidden_since + dt.timedelta(days=int(self.rng.integers(2, 8))))
        daily = ln.quantity / max((ln.end - ln.start).days, 1) * self._uniform(0.3, 0.6)
        total = Decimal("0")
        pl = ln.placements[0]
        for d in days:
            n = int(daily * self._uniform(0.9, 1.1))
            ctr = 0.03 if ln.pricing_basis == "cpc" else 0.003
            clicks, imps = (n, int(n / ctr)) if ln.pricing_basis == "cpc" else (int(n * ctr), n)
            total += self._emit_cm360(c, ln, pl, pl["creatives"][0], d, imps, clicks, ln.order_line_id,
                                      ln.net_unit_price)
            ln.delivered += n
        self._label("forbidden_campaign_delivery", c.campaign_id, days[0], days[-1], total,
                    f"delivered on {len(days)} days after it was forbidden on {c.forbidden_since}")

    def _deliver_orphan_placement(self, c: Campaign, external: str):
        """Delivery the ad server counted on a placement tied to no order line."""
        ln = c.digital_lines[0]
        pl = self._new_placements(c, ln, 1)[0]
        pl["name"] = pl["name"].replace(" - P1", " - hors plan")
        span = (c.end - c.start).days
        first = c.start + dt.timedelta(days=int(self.rng.integers(0, max(span - 15, 1))))
        days = self._days(first, first + dt.timedelta(days=int(self.rng.integers(3, 15))))
        unit_cost = ln.net_unit_price  # bought at the line's rate, but on no order line
        total = Decimal("0")
        for d in days:
            imps = int(self._uniform(2_000, 20_000))
            total += self._emit_cm360(c, ln, pl, pl["creatives"][0], d, imps, int(imps * 0.003), external,
                                      unit_cost)
        self._label("delivery_without_order", str(pl["placement_id"]), days[0], days[-1], total,
                    "placement external id " + (repr(external) if external else "empty"))

    def _deliver_offline(self, c: Campaign, ln: OrderLine):
        days = self._days(ln.start, ln.end)
        if ln.media_type == "outdoor":
            days = [d for d in days if d.weekday() == 0] or days[:1]
        elif ln.media_type == "cinema":
            days = [d for d in days if d.weekday() == 2] or days[:1]
        ratio = self._delivery_ratio(ln)
        target = ln.quantity if ratio >= 1 else int(ln.quantity * ratio)
        if ln.order_line_id in self.near_lines and target < 0.9 * ln.quantity:
            target = ln.quantity  # too few units to sit just inside the tolerance
        counts = self.rng.multinomial(target, np.full(len(days), 1 / len(days)))
        unit_label = {"spot": "Spot", "insertion": "Insertion", "face": "Face", "screening": "Séance"}
        path = f"regie_reports/bilan_{ln.seller['media_seller_id'].lower()}_{c.campaign_id.lower()}.csv"
        for d, n in zip(days, counts):
            if n:
                self.regie_rows[path].append([
                    ln.order_line_id, c.name, ln.seller["media_seller_name"], fr_date(d),
                    unit_label[ln.buying_unit], int(n), fr(money(n * ln.net_unit_price)),
                ])
        ln.delivered = int(counts.sum())

    def _deliver_email(self, c: Campaign, ln: OrderLine):
        days = self._days(ln.start, ln.end)
        w = self._day_weights(days, weekend_factor=0.3, campaign_id=c.campaign_id)
        attempted_total = int(ln.quantity * self._delivery_ratio(ln) * 1.02)
        daily = self.rng.multinomial(attempted_total, w / w.sum())
        isps = list(ISP_SHARES)
        shares = np.array(list(ISP_SHARES.values()))
        blocked_isp, block = None, None
        if ln.order_line_id in self.email_drop_lines:
            blocked_isp = self._pick(["orange.fr", "yahoo.fr", "free.fr", "sfr.fr", "gmail.com"])
            first = ln.start + dt.timedelta(days=int(self.rng.integers(21, len(days) - 6)))
            block = (first, first + dt.timedelta(days=int(self.rng.integers(1, 5))))
        delivered_total, lost = 0, 0
        for d, n in zip(days, daily):
            split = self.rng.multinomial(int(n), shares)
            for isp, attempted in zip(isps, split):
                attempted = int(attempted)
                soft = int(self.rng.binomial(attempted, 0.008))
                hard = int(self.rng.binomial(attempted - soft, 0.004))
                blocked = int(self.rng.binomial(attempted - soft - hard, 0.002))
                if blocked_isp == isp and block[0] <= d <= block[1]:
                    lost += attempted - soft - hard - blocked
                    blocked = attempted - soft - hard
                delivered = attempted - soft - hard - blocked
                opened = int(self.rng.binomial(delivered, 0.18))
                self.email_rows[f"email_deliverability/splio_{d:%Y-%m}.csv"].append([
                    d.isoformat(), c.router_campaign_id, ln.order_line_id, isp, attempted,
                    delivered, soft, hard, blocked, int(self.rng.binomial(delivered, 0.0005)),
                    opened, int(self.rng.binomial(opened, 0.08)),
                ])
                delivered_total += delivered
        ln.delivered = delivered_total
        if block:
            self._label("email_deliverability_drop", f"{c.campaign_id}|{blocked_isp}", block[0], block[1],
                        lost * ln.net_unit_price, f"{blocked_isp} blocked the router's sends")

    def label_ceiling(self):
        """The day the framework's consumption (orders' net + fees, on top of what the seed brings forward)
        reaches its alert threshold: ceiling_threshold_crossed."""
        fw = read_seed("framework_agreements")[0]
        by_day = defaultdict(Decimal)
        for c in self.campaigns:
            for o in c.orders:
                by_day[o["order_date"]] += o["net"] + o["fee"]
        total = Decimal(fw["consumed_before_data_ht_eur"])
        threshold = Decimal(fw["ceiling_ht_eur"]) * Decimal(fw["alert_threshold_pct"]) / 100
        for day in sorted(by_day):
            total += by_day[day]
            if total >= threshold:
                self._label("ceiling_threshold_crossed", fw["framework_id"], day, day, total,
                            f"{total} EUR HT ordered: {fw['alert_threshold_pct']} % of the ceiling reached")
                return

    def label_epm(self):
        """Performance commitments (seed epm_commitments) judged on the year's ad-server delivery of all
        campaigns per media type, as the warehouse judges them: epm_miss for each one missed."""
        media_of = {ln.order_line_id: ln.media_type for c in self.campaigns for ln in c.lines}
        totals = defaultdict(lambda: defaultdict(Decimal))
        for rows in self.ad_rows.values():
            for r in rows:
                media = media_of.get(r[7])
                if media is None:  # a placement tied to no order line: not judged
                    continue
                t = totals[(media, int(r[0][:4]))]
                t["impressions"] += r[11]
                t["clicks"] += r[12]
                t["cost"] += r[14]
                if r[13] != "-":
                    t["measurable"] += r[11]
                    t["viewable"] += r[13]
        for c in read_seed("epm_commitments"):
            for (media, year), t in sorted(totals.items()):
                if media != c["media_type"]:
                    continue
                actual = {
                    "cpm_max": t["cost"] * 1000 / t["impressions"] if t["impressions"] else None,
                    "cpc_max": t["cost"] / t["clicks"] if t["clicks"] else None,
                    "ctr_min": t["clicks"] / t["impressions"] if t["impressions"] else None,
                    "viewability_min": t["viewable"] / t["measurable"] if t["measurable"] else None,
                }[c["indicator"]]
                if actual is None:
                    continue
                committed = Decimal(c["committed_value"])
                met = actual <= committed if c["indicator"].endswith("_max") else actual >= committed
                if not met:
                    self.labels.append({
                        "anomaly_type": check_finding_type("epm_miss"),
                        "entity_key": f"{media}|{c['indicator']}|{year}",
                        "first_date": f"{year}-01-01", "last_date": f"{year}-12-31", "amount_at_stake_eur": "",
                        "note": f"{c['indicator']} {actual:.4f} against {committed}"})

    # ------------------------------------------------------------------ results and objectives
    # Everything below draws from streams of its own (seeded with the seed and 19, 23), after every other
    # draw: the rest of the year, and its labels, stay exactly as they were.
    def add_results(self):
        """Floodlight conversions (click-through from clicks, view-through from impressions), their revenue
        and video plays and completions, appended to the CM360 rows of advertisers that tag their sites."""
        rng = np.random.default_rng([self.seed, 19])
        lines = {ln.order_line_id: ln for c in self.campaigns for ln in c.lines}
        self.line_rates = {}
        for line_id in sorted(lines):
            ln = lines[line_id]
            if ln.media_type not in DIGITAL_MEDIA:
                continue
            self.line_rates[line_id] = (
                float(rng.uniform(0.02, 0.10)),  # click-through conversions per click
                float(rng.uniform(0.00002, 0.0003)),  # view-through conversions per impression
                money(rng.uniform(5, 60)) if rng.random() < 0.6 else Decimal("0.00"),  # revenue per conversion
                float(rng.uniform(0.55, 0.85)) if ln.media_type == "digital_video" else 0.0,  # completion rate
            )
        default = (0.05, 0.0001, Decimal("0.00"), 0.0)
        for path in sorted(self.ad_rows):
            rows = self.ad_rows[path]
            short = path.split("cm360_", 1)[1].rsplit("_", 1)[0].upper()
            if short in NO_FLOODLIGHT:
                continue
            rates = [self.line_rates.get(r[7], default) for r in rows]
            imps = np.array([r[11] for r in rows], dtype=np.int64)
            clicks = np.array([r[12] for r in rows], dtype=np.int64)
            ct = rng.binomial(clicks, [x[0] for x in rates])
            vt = rng.binomial(imps, [x[1] for x in rates])
            video = np.array([x[3] > 0 for x in rates])
            plays = np.where(video, rng.binomial(imps, 0.9), 0)
            completions = rng.binomial(plays, [x[3] for x in rates])
            for r, x, a, b, p_, c_ in zip(rows, rates, ct, vt, plays, completions):
                a, b = int(a), int(b)
                r += [a + b, a, b, (a + b) * x[2], a * x[2], b * x[2], int(p_), int(c_)]
        # some régies declare results in their bilans: conversions per diffusion day, all post-impression
        for path in sorted(self.regie_rows):
            rows = self.regie_rows[path]
            if lines[rows[0][0]].media_type not in REGIE_MEASURED_MEDIA or rng.random() < 0.4:
                continue
            for r in rows:
                ln = lines[r[0]]
                per_unit, per_conversion = self.regie_rates.setdefault(
                    ln.order_line_id, (float(rng.uniform(2, 20)), money(rng.uniform(5, 60))))
                n = int(rng.poisson(r[5] * per_unit))
                revenue = n * per_conversion
                r += [n, 0, n, fr(revenue), fr(Decimal("0.00")), fr(revenue)]
                t = self.regie_results[ln.order_line_id]
                t["cost"] += money(r[5] * ln.net_unit_price)
                t["total_conversions"] += n

    def _line_results(self) -> dict[str, dict]:
        """Each order line's ad-server totals as the warehouse sums them (every row naming the line)."""
        out = defaultdict(lambda: defaultdict(Decimal))
        for rows in self.ad_rows.values():
            for r in rows:
                t = out[r[7]]
                t["impressions"] += r[11]
                t["clicks"] += r[12]
                t["cost"] += r[14]
                if len(r) > 15:
                    t["measured"] = 1
                    t["total_conversions"] += r[15]
                    t["ct_conversions"] += r[16]
                    t["plays"] += r[21]
                    t["completions"] += r[22]
        return out

    def choose_objectives(self):
        """Objectives on the order lines (written in the order-lines export): most are met and must stay
        silent (a CPA objective of an advertiser without Floodlight cannot be measured: silent too); a few
        per indicator are missed, labelled objective_missed with the euros the warehouse computes."""
        rng = np.random.default_rng([self.seed, 23])
        results = self._line_results()
        busy_lines = (self.under_lines | self.near_lines | self.undelivered_lines | set(self.late_lines))
        busy = (self.forbidden_campaigns | self.forbidden_negatives | {c.campaign_id for c in self.orphan_campaigns})
        digital = [(c, ln) for c in self.campaigns for ln in c.digital_lines if results[ln.order_line_id]["impressions"]]
        order = [digital[int(j)] for j in rng.permutation(len(digital))]
        used: set[str] = set()

        def delivered(ln) -> int:
            t = results[ln.order_line_id]
            return int(t["clicks"] if ln.pricing_basis == "cpc" else t["impressions"])

        # volume objectives above what was delivered, on lines of a campaign with a delivery drop or a
        # planned pause (the likely cause the warehouse names)
        n_volume = max(1, round(OBJECTIVE_MISSES["volume_min"] * self.scale))
        for cause, campaigns in (("delivery_drop", self.drop_campaigns), ("planned_pause", set(self.pauses))):
            picked = [(c, ln) for c, ln in order if c.campaign_id in campaigns and ln.order_line_id not in busy_lines
                      and ln.order_line_id not in used][: max(1, n_volume // 2)]
            for c, ln in picked:
                got = delivered(ln)
                target = int(-(-got * rng.uniform(1.05, 1.15) // 1000) * 1000)
                self.objectives[ln.order_line_id] = {"volume_min": target}
                used.add(ln.order_line_id)
                amount = sql_round(float(Decimal(target - got) * ln.net) / float(ln.quantity))
                self._label("objective_missed", f"{ln.order_line_id}|volume_min", ln.start, ln.end, amount,
                            f"volume objective {target} {ln.buying_unit}s, {got} delivered; cause: {cause}")
        # one miss or more per other indicator, on lines with nothing else wrong
        clean = [(c, ln) for c, ln in order if c.campaign_id not in busy and ln.order_line_id not in busy_lines
                 and ln.order_line_id not in used]
        for indicator in ("cpm_max", "cpc_max", "cpa_max", "ctr_min", "completion_rate_min"):
            n = max(1, round(OBJECTIVE_MISSES[indicator] * self.scale))
            shifted = False
            for c, ln in [(c, ln) for c, ln in clean if ln.order_line_id not in used
                          and indicator in OBJECTIVES_BY_MEDIA[ln.media_type]
                          and self._measurable(indicator, results[ln.order_line_id])][:n]:
                model = ("last_click", "post_impression")[int(rng.integers(2))] if indicator == "cpa_max" else None
                target, achieved, amount = self._objective(indicator, results[ln.order_line_id], model, rng, miss=True)
                self.objectives[ln.order_line_id] = {indicator: target, "model": model}
                used.add(ln.order_line_id)
                # the first CPC miss outside a delivery drop (whose euros are costs) also had its CPC raised
                cause = (indicator == "cpc_max" and not shifted and c.campaign_id not in self.drop_campaigns
                         and self._shift_cpc(ln))
                shifted = shifted or cause
                self._label("objective_missed", f"{ln.order_line_id}|{indicator}", ln.start, ln.end, amount,
                            f"{indicator} objective {target}, achieved {achieved:.4f}"
                            + (f" ({model})" if model else "") + ("; cause: cpc_change" if cause else ""))
        # CPA objectives of lines only their régie measures (its bilan's conversions, post-impression): the
        # first missed, labelled; the next met, silent
        regie_measured = [(c, ln) for c in self.campaigns for ln in c.lines
                          if self.regie_results.get(ln.order_line_id, {}).get("total_conversions")
                          and c.campaign_id not in busy and ln.order_line_id not in busy_lines]
        n_regie = max(1, round(OBJECTIVE_MISSES["regie_cpa_max"] * self.scale))
        for i, (c, ln) in enumerate(regie_measured[: n_regie + 1]):
            target, achieved, amount = self._objective("cpa_max", self.regie_results[ln.order_line_id],
                                                       "post_impression", rng, miss=i < n_regie)
            self.objectives[ln.order_line_id] = {"cpa_max": target, "model": "post_impression"}
            used.add(ln.order_line_id)
            if i < n_regie:
                self._label("objective_missed", f"{ln.order_line_id}|cpa_max", ln.start, ln.end, amount,
                            f"cpa_max objective {target}, achieved {achieved:.4f} (post_impression), measured by "
                            "its régie only")
        # met objectives (and unmeasurable ones) on half of the other lines: silent
        for c, ln in order:
            if ln.order_line_id in used or rng.random() < 0.5:
                continue
            t = results[ln.order_line_id]
            model = ("last_click", "post_impression")[int(rng.integers(2))]
            stated = {"model": model}
            for indicator in OBJECTIVES_BY_MEDIA[ln.media_type]:
                if indicator == "cpa_max" and not t["measured"]:
                    stated[indicator] = money(rng.uniform(5, 50))  # no Floodlight: not measurable
                elif self._measurable(indicator, t):
                    stated[indicator] = self._objective(indicator, t, model, rng, miss=False)[0]
            if delivered(ln) >= ln.quantity and rng.random() < 0.5:
                stated["volume_min"] = ln.quantity
            self.objectives[ln.order_line_id] = stated

    def _shift_cpc(self, ln: OrderLine) -> bool:
        """Raise a CPC line's cost over its last 7 delivery days by 6 % and lower its first 7 days' by as many
        euros: the CPC a trafficker raises to push delivery (0.55 -> 0.58 EUR), which the warehouse names as a
        cost miss's likely cause (cpc_change). The line's total cost, and so its objectives' deviations, stay
        as they were. False when the line has fewer than 14 days of delivery."""
        rows = [r for rows in self.ad_rows.values() for r in rows if r[7] == ln.order_line_id]
        days = sorted({r[0] for r in rows})
        if len(days) < 14:
            return False
        first = [r for r in rows if r[0] in days[:7]]
        raised = Decimal("0")
        for r in (r for r in rows if r[0] in days[-7:]):
            new = money(r[14] * Decimal("1.06"))
            raised, r[14] = raised + new - r[14], new
        base, left = sum(r[14] for r in first), raised
        biggest = max(first, key=lambda r: r[14])
        for r in first:
            if r is not biggest:
                cut = money(raised * r[14] / base)
                r[14], left = r[14] - cut, left - cut
        biggest[14] -= left
        return True

    @staticmethod
    def _measurable(indicator: str, t: dict) -> bool:
        if indicator == "cpa_max":
            return bool(t["measured"]) and t["ct_conversions"] > 0
        if indicator == "completion_rate_min":
            return t["plays"] > 0
        if indicator in ("cpc_max", "ctr_min"):
            return t["clicks"] > 0
        return t["impressions"] > 0

    @staticmethod
    def _objective(indicator: str, t: dict, model: str | None, rng, miss: bool):
        """(objective, achieved, euros of the deviation as the warehouse computes them) for one indicator:
        an objective 15-30 % short of (miss) or beyond (met) what was achieved, with 2 decimals."""
        cost = t["cost"]
        conversions = t["ct_conversions"] if model == "last_click" else t["total_conversions"]
        base = {"cpm_max": t["impressions"], "cpc_max": t["clicks"], "cpa_max": conversions}
        if indicator in base:
            n = base[indicator]
            achieved = cost * (1000 if indicator == "cpm_max" else 1) / n
            factor = Decimal(str(round(rng.uniform(0.70, 0.85) if miss else rng.uniform(1.15, 1.40), 3)))
            target = max((achieved * factor).quantize(CENT, rounding="ROUND_DOWN" if miss else "ROUND_UP"), CENT)
            if indicator == "cpm_max":
                amount = sql_round(float(cost * 1000 - target * n) / 1000)
            else:
                amount = sql_round(float(cost - target * n))
            return target, achieved, amount
        num, den = (t["clicks"], t["impressions"]) if indicator == "ctr_min" else (t["completions"], t["plays"])
        achieved = Decimal(num) * 100 / Decimal(den)
        factor = Decimal(str(round(rng.uniform(1.2, 1.5) if miss else rng.uniform(0.6, 0.85), 3)))
        target = max((achieved * factor).quantize(CENT, rounding="ROUND_UP" if miss else "ROUND_DOWN"), CENT)
        # a rate's objective is at most 100 %: the door quarantines a line that asks for more (a missed 77 %
        # completion rate asked 102.64 %, and its order line never reached the warehouse)
        target = min(target, max(RATE_CAP, achieved.quantize(CENT, rounding="ROUND_UP")))
        x = float(cost) * (float(target) * int(den) - 100 * int(num)) / (float(target) * int(den))
        return target, achieved, sql_round(x)

    def _objective_cells(self, ln: OrderLine) -> list:
        o = self.objectives.get(ln.order_line_id)
        if not o:
            return [""] * len(OBJECTIVE_HEADERS)
        cell = (lambda k: fr(o[k]) if k in o else "")
        model = o.get("model") if "cpa_max" in o else None
        return [o.get("volume_min", ""), cell("cpm_max"), cell("cpc_max"), cell("cpa_max"), cell("ctr_min"),
                cell("completion_rate_min"), ATTRIBUTION_FR[model] if model else "",
                {"last_click": 30, "post_impression": 7}[model] if model else ""]

    # ------------------------------------------------------------------ writing
    def write(self, out: Path) -> GenerationSummary:
        inbox = out / "inbox"
        files = 0
        files += self._write_orders(inbox)
        for path, rows in sorted(self.ad_rows.items()):
            self._write_cm360(inbox / path, rows)
            files += 1
        regie_header = ["Référence ordre", "Campagne", "Support", "Date de diffusion", "Type d'unité",
                        "Quantité diffusée", "Montant net HT"]
        for path, rows in sorted(self.regie_rows.items()):
            # radio and press régies send Windows-1252 files; the others UTF-8
            enc = "cp1252" if any(s in path for s in ("lagp", "nrjg", "mpub", "366")) else "utf-8"
            header = regie_header + (REGIE_RESULT_FIELDS if len(rows[0]) > len(regie_header) else [])
            write_csv(inbox / path, header, rows, delimiter=";", encoding=enc)
            files += 1
        email_header = ["Date", "CampaignID", "CustomCampaign", "ESPName", "AttemptedMessagesCount",
                        "DeliveredMessagesCount", "SoftBouncedMessagesCount", "HardBouncedMessagesCount",
                        "BlockedMessagesCount", "SpamReportsCount", "OpenedMessagesCount",
                        "ClickedMessagesCount"]
        for path, rows in sorted(self.email_rows.items()):
            write_csv(inbox / path, email_header, sorted(rows, key=lambda r: (r[0], r[2], r[3])),
                      delimiter=",", encoding="utf-8")
            files += 1
        write_csv(inbox / f"planned_pauses/pauses_prevues_{self.year}.csv",
                  ["Campagne", "Début de pause", "Fin de pause", "Motif"],
                  [[cid, fr_date(a), fr_date(b), "Pause prévue au plan média"]
                   for cid, (a, b) in sorted(self.pauses.items())], delimiter=";", encoding="utf-8")
        files += 1
        write_csv(inbox / f"penalty_events/evenements_penalites_{self.year}.csv",
                  ["Référence commande", "Date", "Type d'événement", "Niveau", "Motif"], self.penalty_events,
                  delimiter=";", encoding="utf-8")
        files += 1
        forbidden = []
        for c in self.campaigns:
            if c.campaign_id in self.forbidden_campaigns | self.forbidden_negatives:
                since = c.forbidden_since or c.end + dt.timedelta(days=3)
                forbidden.append([c.campaign_id, c.advertiser["short_name"], fr_date(since),
                                  "Campagne retirée par le SIG"])
        write_csv(inbox / f"forbidden_campaigns/campagnes_interdites_{self.year}.csv",
                  ["Campagne", "Annonceur", "Interdite depuis le", "Motif"], forbidden,
                  delimiter=";", encoding="utf-8")
        files += 1
        write_csv(inbox / f"brand_safety/exclusions_{self.year}.csv",
                  ["SIRET annonceur", "Type", "Site, domaine ou groupe de sites", "Exclu depuis le", "Motif"],
                  self.exclusions, delimiter=";", encoding="utf-8")
        write_csv(inbox / f"admission_decisions/decisions_{self.year}.csv",
                  ["N° BDC", "Décision", "Montant réfaction", "Motif", "Décidé par", "Décidé le"],
                  sorted(self.decisions, key=lambda r: (r[5], r[0])), delimiter=";", encoding="utf-8")
        files += 2
        labels = sorted(self.labels, key=lambda r: (r["anomaly_type"], r["entity_key"]))
        write_csv(out / "ground_truth" / "anomalies.csv",
                  ["anomaly_type", "entity_key", "first_date", "last_date", "amount_at_stake_eur", "note"],
                  [list(r.values()) for r in labels], delimiter=",", encoding="utf-8")
        counts = defaultdict(int)
        for r in labels:
            counts[r["anomaly_type"]] += 1
        return GenerationSummary(
            out=out, campaigns=len(self.campaigns),
            purchase_orders=sum(len(c.orders) for c in self.campaigns),
            order_lines=sum(len(c.lines) for c in self.campaigns),
            ad_server_rows=sum(len(r) for r in self.ad_rows.values()),
            regie_rows=sum(len(r) for r in self.regie_rows.values()),
            email_rows=sum(len(r) for r in self.email_rows.values()),
            anomalies=dict(counts), files=files,
        )

    def _write_orders(self, inbox: Path) -> int:
        po_header = ["N° BDC", "Date du BDC", "Annonceur", "SIRET annonceur", "Code service Chorus",
                     "Campagne", "Libellé campagne", "Code UO", "Montant brut HT", "Montant net HT",
                     "TVA", "Montant TTC", "Taux honoraires", "Montant honoraires HT", "Date de début",
                     "Date de fin"]
        line_header = ["N° BDC", "N° ligne", "Régie", "SIRET régie", "Type de média", "Code UO",
                       "Unité d'achat", "Base tarifaire", "Quantité commandée", "Prix unitaire brut",
                       "Montant brut HT", "Remise dégressif", "Abattement intérêt général",
                       "Remise professionnelle", "Cumul des mandats", "Montant net HT", "TVA",
                       "Montant TTC", "Taux honoraires", "Date de début", "Date de fin",
                       *OBJECTIVE_HEADERS]
        po_by_quarter, lines_by_quarter = defaultdict(list), defaultdict(list)
        for c in self.campaigns:
            for o in c.orders:
                q = f"{o['order_date'].year}-T{(o['order_date'].month - 1) // 3 + 1}"
                a = c.advertiser
                po_by_quarter[q].append([
                    o["purchase_order_id"], fr_date(o["order_date"]), a["advertiser_name"], a["siret"],
                    a["chorus_service_code"], c.campaign_id, c.name, o["uo_code"], fr(o["gross"]),
                    fr(o["net"]), fr(o["vat"]), fr(o["net"] + o["vat"]), fr(o["fee_pct"]), fr(o["fee"]),
                    fr_date(o["start"]), fr_date(o["end"]),
                ])
                for ln in c.lines:
                    if ln.purchase_order_id != o["purchase_order_id"]:
                        continue
                    d = ln.discounts
                    lines_by_quarter[q].append([
                        ln.purchase_order_id, ln.line_number, ln.seller["media_seller_name"],
                        ln.seller["siret"], ln.media_type, ln.uo_code, ln.buying_unit, ln.pricing_basis,
                        ln.quantity, fr(ln.unit_gross_price), fr(ln.gross), fr(d["volume"]),
                        fr(d["public_interest"]), fr(d["professional"]), fr(d["cumul_mandats"]),
                        fr(ln.net), fr(ln.vat), fr(ln.net + ln.vat), fr(ln.fee_pct), fr_date(ln.start),
                        fr_date(ln.end), *self._objective_cells(ln),
                    ])
        for q in sorted(po_by_quarter):
            write_csv(inbox / f"purchase_orders/export_bdc_{q}.csv", po_header, po_by_quarter[q],
                      delimiter=";", encoding="utf-8-sig")
            write_csv(inbox / f"order_lines/export_lignes_bdc_{q}.csv", line_header, lines_by_quarter[q],
                      delimiter=";", encoding="cp1252")
        return 2 * len(po_by_quarter)

    def _write_cm360(self, path: Path, rows: list[list]):
        rows.sort(key=lambda r: (r[0], r[6], r[10]))
        month = rows[0][0][:7]
        first = dt.date.fromisoformat(month + "-01")
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["Report Name", f"Livraison {rows[0][1]} {month}"])
        w.writerow(["Report Type", "Standard"])
        w.writerow(["Date Range", f"{first.isoformat()} - {last.isoformat()}"])
        w.writerow(["Date/Time Generated", f"{last + dt.timedelta(days=1)} 06:00:00 (Europe/Paris)"])
        w.writerow(["Account ID", "884213"])
        w.writerow([])
        w.writerow(["Report Fields"])
        extended = len(rows[0]) > len(CM360_FIELDS)
        w.writerow(CM360_FIELDS + (CONVERSION_FIELDS if extended else []) + ["Creative Pixel Size"])
        w.writerows([*r[:8], self._site(r), *r[9:], self._format(r)] for r in rows)
        # Most scheduled reports end with a totals row; some senders strip it.
        if int(rows[0][2]) % 4 != 0:
            total_cost = sum((r[14] for r in rows), Decimal("0"))
            measured = [r[13] for r in rows if r[13] != "-"]
            w.writerow(["Grand Total:"] + [""] * 10 + [sum(r[11] for r in rows), sum(r[12] for r in rows),
                        sum(measured) if measured else "-", total_cost]
                       + ([sum((r[k] for r in rows), type(rows[0][k])(0)) for k in range(15, 23)] if extended else [])
                       + [""])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue().encode("utf-8"))


    # ------------------------------------------------------------------ sites, formats, brand safety, decisions
    # Drawn last, from streams of their own (seed and 29, 31): every other byte and label stays as it was.
    def _site(self, r: list) -> str:
        """The site a report row delivered on: the placement's (a breach's site, else one of its régie's)."""
        placement = r[6]
        if placement in self.breach_sites:
            return self.breach_sites[placement]
        sites = SITES_BY_SELLER.get(self.seller_by_name[r[8]]["media_seller_id"], (r[8],))
        return sites[placement % len(sites)]

    def _format(self, r: list) -> str:
        formats = FORMATS_BY_MEDIA.get(self.seller_by_name[r[8]]["media_type"], ("",))
        return formats[r[10] % len(formats)]

    def choose_brand_safety(self):
        """Each advertiser's exclusion list: a domain nobody delivers on (silent), and for a few campaigns with
        nothing else wrong a placement moved onto an excluded site (by the site, its domain or its group),
        excluded from a day in the middle of its delivery: what it delivered from that day on is a
        brand_safety_breach, what it delivered before is not."""
        rng = np.random.default_rng([self.seed, 29])
        self.seller_by_name = {s["media_seller_name"]: s for s in self.sellers}
        self.breach_sites: dict[int, str] = {}
        advertisers = {c.advertiser["advertiser_id"]: c.advertiser for c in self.campaigns}
        self.exclusions = [[a["siret"], "domaine", "roulette-bonus.example", fr_date(dt.date(self.year, 1, 1)),
                            "Jeux d'argent"] for _, a in sorted(advertisers.items())]
        busy = (self.drop_campaigns | self.forbidden_campaigns | self.forbidden_negatives | set(self.pauses)
                | {c.campaign_id for c in self.orphan_campaigns})
        rows_of = defaultdict(list)
        for rows in self.ad_rows.values():
            for r in rows:
                rows_of[r[6]].append(r)
        pool = [self.campaigns[int(j)] for j in rng.permutation(len(self.campaigns))]
        pool = [c for c in pool if c.campaign_id not in busy and any(len(ln.placements) > 1 for ln in c.digital_lines)]
        used = set()
        for c in pool:
            if len(self.breach_sites) == self._count(3, minimum=3):
                break
            kind, value, site = BRAND_SAFETY_BREACHES[len(self.breach_sites) % len(BRAND_SAFETY_BREACHES)]
            if (c.advertiser["advertiser_id"], kind) in used:
                continue
            used.add((c.advertiser["advertiser_id"], kind))
            placement = next(ln for ln in c.digital_lines if len(ln.placements) > 1).placements[-1]["placement_id"]
            rows = [r for r in rows_of[placement] if r[11] > 0]
            days = sorted({r[0] for r in rows})
            since = days[int(len(days) * rng.uniform(0.3, 0.6))]
            breach = [r for r in rows if r[0] >= since]
            self.breach_sites[placement] = site
            self.exclusions.append([c.advertiser["siret"], kind, value, fr_date(dt.date.fromisoformat(since)),
                                    "Univers signalé comme préjudiciable à l'image de l'annonceur"])
            self._label("brand_safety_breach", f"{c.campaign_id}|{site}", dt.date.fromisoformat(breach[0][0]),
                        dt.date.fromisoformat(max(r[0] for r in breach)), sum(r[14] for r in breach),
                        f"placement {placement} on {site}, excluded ({kind} {value}) from {since}")

    def decide_admissions(self, invoices: list[dict]):
        """The advertisers' decisions on their invoiced orders, within the admission delay of the first
        invoice: mostly admissions, some réfactions (half after an ajournement they supersede); a few orders
        never decided or decided late (invoiced_before_admission) and a few rejected yet paid
        (paid_after_rejection)."""
        rng = np.random.default_rng([self.seed, 31])
        by_order = defaultdict(list)
        for inv in invoices:
            if inv["typeFacture"] == "FACTURE" and inv["numeroBonCommande"]:
                paid = [h["histoStatutDatePassage"][:10] for h in inv["historique"]
                        if h["histoStatutCode"] == "MISE_EN_PAIEMENT"]
                by_order[inv["numeroBonCommande"]].append(
                    (dt.date.fromisoformat(inv["dateDepot"]), Decimal(inv["montantTTC"]),
                     dt.date.fromisoformat(min(paid)) if paid else None))
        orders = [(c, o) for c in self.campaigns for o in c.orders if o["purchase_order_id"] in by_order]
        orders = [orders[int(j)] for j in rng.permutation(len(orders))]
        labelled = [(c, o) for c, o in orders if o["uo_code"] != "01-01"]
        undecided = {o["purchase_order_id"] for _, o in labelled[: self._count(4)]}
        rejected = {o["purchase_order_id"] for _, o in [(c, o) for c, o in labelled[self._count(4):]
                    if any(p for _, _, p in by_order[o["purchase_order_id"]])][: self._count(2)]}
        reduced = [o["purchase_order_id"] for _, o in labelled
                   if o["purchase_order_id"] not in undecided | rejected][: self._count(6)]
        self.decisions = []

        def decide(c, o, day: dt.date, decision: str, amount="", reason=""):
            self.decisions.append([o["purchase_order_id"], decision, amount, reason,
                                   f"Service communication {c.advertiser['short_name']}", f"{day} 10:00"])

        for c, o in orders:
            po = o["purchase_order_id"]
            invoiced = by_order[po]
            first = min(d for d, _, _ in invoiced)
            due = first + dt.timedelta(days=ADMISSION_DELAY_DAYS)
            if po in undecided:
                if len(self.decisions) % 2:  # decided, but after the delay
                    decide(c, o, due + dt.timedelta(days=int(rng.integers(1, 10))), "admission")
                self._label("invoiced_before_admission", po, first, due, sum(t for _, t, _ in invoiced),
                            f"first invoice deposited {first}, no decision by {due}")
            elif po in rejected:
                day = first + dt.timedelta(days=1)
                decide(c, o, day, "rejet", reason="Prestations non conformes au bon de commande")
                paid = [(p, t) for _, t, p in invoiced if p is not None and p >= day]
                self._label("paid_after_rejection", po, min(p for p, _ in paid), max(p for p, _ in paid),
                            sum(t for _, t in paid), f"rejected on {day}, {len(paid)} invoice(s) paid after")
            elif po in reduced:
                day = first + dt.timedelta(days=int(rng.integers(5, ADMISSION_DELAY_DAYS)))
                if reduced.index(po) % 2 == 0:
                    decide(c, o, first + dt.timedelta(days=2), "ajournement", reason="Bilan de campagne incomplet")
                decide(c, o, day, "réfaction", fr(money(o["net"] * Decimal("0.05"))),
                       "Visibilité inférieure à l'engagement de la commande")
            else:
                decide(c, o, first + dt.timedelta(days=int(rng.integers(1, ADMISSION_DELAY_DAYS))), "admission")


def write_csv(path: Path, header, rows, delimiter: str, encoding: str):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if encoding == "cp1252" else "\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


def generate(out: Path, seed: int, scale: float, year: int = 2025) -> GenerationSummary:
    """Write a labelled synthetic State-year under `out` (inbox/ and ground_truth/)."""
    g = StateYearGenerator(seed, scale, year)
    g.plan()
    g.choose_anomalies()
    g.choose_pauses()
    g.deliver()
    g.label_ceiling()
    g.label_epm()
    g.add_results()
    g.choose_objectives()
    invoices = InvoiceYear(g).build()
    g.labels += invoices.labels
    g.choose_brand_safety()
    g.decide_admissions(invoices.invoices)
    files = invoices.write(Path(out))
    summary = g.write(Path(out))
    summary.files += files
    return summary
