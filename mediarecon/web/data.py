"""The dashboard's questions to the warehouse, each in a scope (web.scope): pages and API routes read
through these functions only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mediarecon.exports.reports import (MONTH, MONTHLY_STATEMENT, ReportError, labelled, objectives_sql,
                                        statement_month, statement_sorted)
from mediarecon.web.scope import PublishedWarehouse, Scope

SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_FR = {"critical": "critique", "high": "élevée", "medium": "moyenne", "low": "faible"}
# the columns a findings list may be sorted by, and their SQL
SORTS = {"amount": "f.amount_at_stake_eur", "date": "f.first_date", "type": "f.finding_type",
         "severity": "case f.severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 else 3 end",
         "advertiser": "f.advertiser_id"}
PAGE_SIZE = 100

FINDING_COLUMNS = """
    f.finding_id, f.finding_type, t.label_fr as type_label, f.severity, t.description_fr as description,
    f.entity_key,
    f.campaign_id, f.advertiser_id, a.advertiser_name, f.media_seller_id, s.media_seller_name,
    f.first_date, f.last_date, f.amount_at_stake_eur, f.evidence_source, f.evidence_file_sha256,
    f.evidence_line, f.evidence_document_name"""

FINDING_JOINS = """
    from {findings} as f
    inner join {finding_types} as t on t.finding_type = f.finding_type
    left join {advertisers} as a on a.advertiser_id = f.advertiser_id
    left join {media_sellers} as s on s.media_seller_id = f.media_seller_id"""


class BadFilter(ValueError):
    """A filter a person typed in the URL is not one the list knows; the message says which."""


@dataclass(frozen=True)
class FindingFilters:
    finding_type: str | None = None
    advertiser_id: str | None = None
    media_seller_id: str | None = None
    month: str | None = None  # YYYY-MM: findings whose period overlaps the month
    severity: str | None = None
    sort: str = "amount"
    descending: bool = True
    page: int = 1

    def checked(self) -> "FindingFilters":
        if self.month and not MONTH.fullmatch(self.month):
            raise BadFilter(f"mois {self.month!r} : attendu AAAA-MM")
        if self.severity and self.severity not in SEVERITIES:
            raise BadFilter(f"gravité {self.severity!r} : attendu {', '.join(SEVERITIES)}")
        if self.sort not in SORTS:
            raise BadFilter(f"tri {self.sort!r} : attendu {', '.join(SORTS)}")
        if not 1 <= self.page <= 1_000_000:
            raise BadFilter("page : de 1 à 1 000 000")
        return self

    def params(self) -> dict:
        first = last = None
        if self.month:
            first = statement_month(self.month)
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return {"type": self.finding_type, "adv": self.advertiser_id, "seller": self.media_seller_id,
                "severity": self.severity, "month_first": first, "month_last": last}


WHERE = """
    where (cast($type as varchar) is null or f.finding_type = $type)
      and (cast($adv as varchar) is null or f.advertiser_id = $adv)
      and (cast($seller as varchar) is null or f.media_seller_id = $seller)
      and (cast($severity as varchar) is null or f.severity = $severity)
      and (cast($month_first as date) is null or (f.first_date <= $month_last and f.last_date >= $month_first))"""


def findings(wh: PublishedWarehouse, scope: Scope, filters: FindingFilters) -> tuple[list[dict], int]:
    """One page of findings matching the filters, and how many match in all."""
    filters = filters.checked()
    order = f"{SORTS[filters.sort]} {'desc' if filters.descending else 'asc'} nulls last, f.finding_id"
    params = filters.params()
    count = wh.rows(scope, "select count(*) as n" + FINDING_JOINS + WHERE, params)[0]["n"]
    rows = wh.rows(scope, "select" + FINDING_COLUMNS + FINDING_JOINS + WHERE
                   + f" order by {order} limit {PAGE_SIZE} offset {(filters.page - 1) * PAGE_SIZE}", params)
    return rows, count


def finding(wh: PublishedWarehouse, scope: Scope, finding_id: str) -> dict | None:
    """One finding, or None when there is none of this id in the scope (another advertiser's answers None)."""
    rows = wh.rows(scope, "select" + FINDING_COLUMNS + FINDING_JOINS + " where f.finding_id = $id", {"id": finding_id})
    return rows[0] if rows else None


def filter_choices(wh: PublishedWarehouse, scope: Scope) -> dict:
    """The values each filter of the findings list offers, from the findings in scope."""
    return {
        "types": wh.rows(scope, "select t.finding_type, t.label_fr from {finding_types} as t where t.finding_type in"
                                " (select finding_type from {findings}) order by t.label_fr"),
        "advertisers": wh.rows(scope, "select a.advertiser_id, a.advertiser_name from {advertisers} as a where"
                                      " a.advertiser_id in (select advertiser_id from {findings})"
                                      " order by a.advertiser_name"),
        "sellers": wh.rows(scope, "select s.media_seller_id, s.media_seller_name from {media_sellers} as s where"
                                  " s.media_seller_id in (select media_seller_id from {findings})"
                                  " order by s.media_seller_name"),
        "severities": SEVERITIES,
    }


def overview(wh: PublishedWarehouse, scope: Scope) -> dict:
    by_type = wh.rows(scope, """
        select f.finding_type, t.label_fr, f.severity, count(*) as findings, sum(f.amount_at_stake_eur) as amount_eur
        from {findings} as f inner join {finding_types} as t on t.finding_type = f.finding_type
        group by f.finding_type, t.label_fr, f.severity order by amount_eur desc nulls last, f.finding_type""")
    by_advertiser = wh.rows(scope, """
        select f.advertiser_id, coalesce(a.advertiser_name, 'Accord-cadre (sans annonceur)') as advertiser_name,
               count(*) as findings, sum(f.amount_at_stake_eur) as amount_eur
        from {findings} as f left join {advertisers} as a on a.advertiser_id = f.advertiser_id
        group by f.advertiser_id, a.advertiser_name order by amount_eur desc nulls last, f.advertiser_id""")
    return {"by_type": by_type, "by_advertiser": by_advertiser,
            "total_findings": sum(r["findings"] for r in by_type),
            "total_eur": sum((r["amount_eur"] or 0) for r in by_type)}


def campaign(wh: PublishedWarehouse, scope: Scope, campaign_id: str) -> dict | None:
    """A campaign's order lines, daily delivery against plan, KPIs against the EPM commitments and its
    findings; None when the campaign has nothing in the scope."""
    p = {"c": campaign_id}
    lines = wh.rows(scope, """
        select o.*, s.media_seller_name from {order_lines} as o
        left join {media_sellers} as s on s.media_seller_id = o.media_seller_id
        where o.campaign_id = $c order by o.start_date, o.order_line_id""", p)
    days = wh.rows(scope, """
        select volume_date, volume, baseline_volume, is_paused, is_drop_day from {daily_volumes}
        where series_type = 'campaign' and campaign_id = $c order by volume_date""", p)
    found = wh.rows(scope, "select" + FINDING_COLUMNS + FINDING_JOINS
                    + " where f.campaign_id = $c order by f.first_date, f.finding_type", p)
    if not (lines or days or found):
        return None
    kpis = wh.rows(scope, """
        select k.*, cpm.committed_value as cpm_max, cpc.committed_value as cpc_max,
               ctr.committed_value as ctr_min, vis.committed_value as viewability_min
        from {campaign_kpis} as k
        left join {epm_commitments} as cpm on cpm.media_type = k.media_type and cpm.indicator = 'cpm_max'
        left join {epm_commitments} as cpc on cpc.media_type = k.media_type and cpc.indicator = 'cpc_max'
        left join {epm_commitments} as ctr on ctr.media_type = k.media_type and ctr.indicator = 'ctr_min'
        left join {epm_commitments} as vis on vis.media_type = k.media_type and vis.indicator = 'viewability_min'
        where k.campaign_id = $c order by k.delivery_month, k.media_type""", p)
    objectives = wh.rows(scope, """
        select * from {objectives} where campaign_id = $c order by order_line_id, indicator""", p)
    name = next((r["campaign_name"] for r in lines if r["campaign_name"]), None)
    planned = _planned(lines)
    for d in days:
        d["planned"] = planned.get(d["volume_date"])
    return {"campaign_id": campaign_id, "campaign_name": name, "lines": lines, "days": days, "kpis": kpis,
            "objectives": objectives,
            "findings": found, "advertiser_id": next((r["advertiser_id"] for r in lines), None)}


def _planned(lines: list[dict]) -> dict[dt.date, float]:
    """Ordered impressions per day: each digital line bought by the impression, spread evenly over its
    flight (what the ad server's daily campaign series counts)."""
    per_day: dict[dt.date, float] = {}
    for line in lines:
        if line["buying_unit"] != "impression" or not line["start_date"] or not line["end_date"]:
            continue
        days = (line["end_date"] - line["start_date"]).days + 1
        if days <= 0:
            continue
        share = float(line["ordered_quantity"]) / days
        for i in range(days):
            day = line["start_date"] + dt.timedelta(days=i)
            per_day[day] = per_day.get(day, 0.0) + share
    return per_day


def campaigns(wh: PublishedWarehouse, scope: Scope) -> list[dict]:
    return wh.rows(scope, """
        select o.campaign_id, max(o.campaign_name) as campaign_name, max(a.advertiser_name) as advertiser_name,
               min(o.start_date) as start_date, max(o.end_date) as end_date,
               sum(o.ordered_net_ht_eur) as ordered_net_ht_eur, sum(o.delivered_net_ht_eur) as delivered_net_ht_eur,
               (select count(*) from {findings} as f where f.campaign_id = o.campaign_id) as findings
        from {order_lines} as o left join {advertisers} as a on a.advertiser_id = o.advertiser_id
        group by o.campaign_id order by min(o.start_date) desc, o.campaign_id""")


def statement_months(wh: PublishedWarehouse, scope: Scope) -> list[dt.date]:
    return [r["statement_month"] for r in wh.rows(
        scope, "select distinct statement_month from {statement} order by statement_month desc")]


def statement(wh: PublishedWarehouse, scope: Scope, month: str) -> list[tuple]:
    """The monthly execution statement's rows (reports.MONTHLY_STATEMENT's columns) in the scope."""
    try:
        first = statement_month(month)
    except ReportError:
        raise BadFilter(f"mois {month!r} : attendu AAAA-MM") from None
    rows = wh.rows(scope, f"select {', '.join(c.name for c in MONTHLY_STATEMENT)} from {{statement}}"
                          " where statement_month = $m", {"m": first})
    return statement_sorted([tuple(r[c.name] for c in MONTHLY_STATEMENT) for r in rows])


def objectives(wh: PublishedWarehouse, scope: Scope, month: str) -> list[tuple]:
    """Results against objectives of the order lines ending in `month` (reports.MONTHLY_OBJECTIVES' columns,
    labelled in French), in the scope: the statement's second sheet."""
    return labelled(wh.rows(scope, objectives_sql("{objectives}"), {"m": statement_month(month)}))


def results(wh: PublishedWarehouse, scope: Scope, month: str) -> list[dict]:
    """The month's results and objectives per advertiser and media (rpt_results_against_objectives)."""
    return wh.rows(scope, """
        select r.*, coalesce(a.advertiser_name, r.advertiser_id) as advertiser_name from {results} as r
        left join {advertisers} as a on a.advertiser_id = r.advertiser_id
        where r.result_month = $m order by advertiser_name, r.media_type""", {"m": statement_month(month)})


def advertiser_name(wh: PublishedWarehouse, scope: Scope, advertiser_id: str | None) -> str | None:
    if not advertiser_id:
        return None
    rows = wh.rows(scope, "select advertiser_name from {advertisers} where advertiser_id = $a", {"a": advertiser_id})
    return rows[0]["advertiser_name"] if rows else None


def decisions(wh: PublishedWarehouse, scope: Scope, campaign_id: str) -> list[dict]:
    """The campaign's orders, each with its admission decisions, oldest first (all kept: the last is current)."""
    orders = wh.rows(scope, """
        select purchase_order_id, sum(ordered_net_ht_eur) as ordered_net_ht_eur from {order_lines}
        where campaign_id = $c group by purchase_order_id order by purchase_order_id""", {"c": campaign_id})
    taken = wh.rows(scope, """
        select * from {admission_decisions} where campaign_id = $c order by purchase_order_id, decided_at""",
                    {"c": campaign_id})
    for o in orders:
        o["decisions"] = [d for d in taken if d["purchase_order_id"] == o["purchase_order_id"]]
    return orders
