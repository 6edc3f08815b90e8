"""The campaign report of a digital campaign (CCAP 11.10.3, decree 2017-159 on digital advertising), in
French and in the decree's order: 1° execution (a universe of sites, b messages, c formats, d results
against the agreed indicators, e the total billed), 2° technical quality (a technology and technical
providers, b advisory actors, c results against the qualitative objectives), 3° brand protection, 4° the
charters. Every section is filled from the published marts; what the data cannot fill is written
"non fourni" with the source that would fill it, never guessed.

The queries name relations in braces (`{order_lines}`), as the dashboard's do: the caller gives a
`query(template, params) -> list[dict]` that puts the tables in their place (the dashboard: filtered to a
user's advertiser by web.scope; the command line: the whole warehouse). Output: XLSX (reports.write_xlsx,
a summary sheet then one sheet per table), an HTML fragment (the dashboard's campaign page) or PDF (that
HTML printed by Chromium, headless, with no network).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
import tempfile
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from mediarecon.exports.reports import INDICATOR_FR, STATUS_FR, Column, ReportError, write_xlsx

Query = typing.Callable[[str, dict], list[dict]]
NOT_PROVIDED = "non fourni"
CAMPAIGN = re.compile(r"CMP-\d{4}-\d{4}")
DIGITAL_MEDIA = ("digital_display", "digital_video", "social", "search", "email")
MEDIA_FR = {"digital_display": "display", "digital_video": "vidéo en ligne", "social": "réseaux sociaux",
            "search": "search (liens sponsorisés)", "email": "e-mailing"}
KIND_FR = {"site": "site", "domaine": "domaine et sous-domaines", "groupe": "groupe de sites"}


@dataclass
class Table:
    section: str  # "1° a)"
    title: str
    sheet: str  # its XLSX sheet (31 characters at most)
    columns: list[Column]
    rows: list[tuple]
    empty: str = ""  # what an empty table means, written as its only row ("non fourni — source : …")


@dataclass
class Section:
    number: str
    title: str
    tables: list[Table] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "<what> — source : <where it would come from>"


@dataclass
class CampaignReport:
    campaign_id: str
    campaign_name: str | None
    advertiser_name: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    sections: list[Section]

    @property
    def title(self) -> str:
        name = f"{self.campaign_name} ({self.campaign_id})" if self.campaign_name else self.campaign_id
        return f"Bilan de campagne digitale (décret n° 2017-159) — {name}"

    @property
    def subtitle(self) -> str:
        period = (f"du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"
                  if self.start_date and self.end_date else NOT_PROVIDED)
        return f"Annonceur : {self.advertiser_name or NOT_PROVIDED} — période : {period}"


def missing(what: str, source: str) -> str:
    return f"{what} : {NOT_PROVIDED} — source : {source}"


def _rows(found: list[dict], columns: list[Column], labels: dict | None = None) -> list[tuple]:
    labels = labels or {}
    return [tuple(labels[c.name].get(r[c.name], r[c.name]) if c.name in labels else r[c.name] for c in columns)
            for r in found]


SITE_COLUMNS = [Column("site_name", "Site"), Column("site_group", "Groupe de sites"),
                Column("first_date", "Première diffusion", "date"), Column("last_date", "Dernière diffusion", "date"),
                Column("impressions", "Impressions", "int"), Column("clicks", "Clics", "int"),
                Column("cost_eur", "Coût média HT", "eur")]
CREATIVE_COLUMNS = [Column("creative_name", "Message (création)"), Column("creative_id", "Identifiant"),
                    Column("creative_pixel_size", "Format"), Column("first_date", "Première diffusion", "date"),
                    Column("last_date", "Dernière diffusion", "date"), Column("impressions", "Impressions", "int"),
                    Column("clicks", "Clics", "int")]
FORMAT_COLUMNS = [Column("format", "Format"), Column("creatives", "Créations", "int"),
                  Column("impressions", "Impressions", "int"), Column("clicks", "Clics", "int")]
LINE_COLUMNS = [Column("order_line_id", "Ligne de commande"), Column("media_type", "Média"),
                Column("buying_unit", "Unité d'achat"), Column("ordered_quantity", "Quantité commandée", "int"),
                Column("delivered_quantity", "Quantité diffusée", "int"), Column("delivery_rate", "Taux", "dec"),
                Column("delivery_status", "État")]
KPI_COLUMNS = [Column("media_type", "Média"), Column("impressions", "Impressions", "int"),
               Column("clicks", "Clics", "int"), Column("conversions", "Actions (conversions)", "int"),
               Column("video_completions", "Vidéos vues en entier", "int"), Column("cost_eur", "Coût média HT", "eur")]
BILLED_COLUMNS = [Column("purchase_order_id", "Bon de commande"), Column("ordered_net_ht_eur", "Commandé net HT", "eur"),
                  Column("invoiced_net_ht_eur", "Facturé net HT (factures électroniques)", "eur"),
                  Column("credited_net_ht_eur", "Avoirs net HT", "eur"),
                  Column("chorus_invoices", "Factures Chorus Pro", "int"),
                  Column("chorus_ttc_eur", "Facturé TTC (Chorus Pro)", "eur"),
                  Column("paid_ttc_eur", "Payé TTC", "eur")]
PROVIDER_COLUMNS = [Column("role", "Rôle"), Column("name", "Prestataire ou outil"), Column("basis", "Attesté par")]
OBJECTIVE_COLUMNS = [Column("order_line_id", "Ligne de commande"), Column("indicator", "Objectif"),
                     Column("objective_value", "Valeur fixée", "dec"), Column("achieved_value", "Atteint", "dec"),
                     Column("status", "Résultat")]
EXCLUSION_COLUMNS = [Column("exclusion_kind", "Type d'exclusion"), Column("excluded_value", "Site, domaine ou groupe"),
                     Column("excluded_since_date", "Exclu depuis le", "date"), Column("reason", "Motif")]
BREACH_COLUMNS = [Column("site_name", "Site exclu où la campagne a été diffusée"),
                  Column("first_date", "Du", "date"), Column("last_date", "Au", "date"),
                  Column("amount_at_stake_eur", "Coût de cette diffusion HT", "eur")]
SUMMARY_COLUMNS = [Column("number", "Section du décret"), Column("title", "Contenu"), Column("status", "État"),
                   Column("detail", "Détail")]


def build(query: Query, campaign_id: str) -> CampaignReport:
    """The report of `campaign_id`; ReportError when the id is malformed or the campaign unknown (in the scope)."""
    if not CAMPAIGN.fullmatch(campaign_id):
        raise ReportError(f"--campaign {campaign_id!r} is not a campaign id CMP-YYYY-NNNN")
    p = {"c": campaign_id}
    lines = query("""
        select o.*, s.media_seller_name from {order_lines} as o
        left join {media_sellers} as s on s.media_seller_id = o.media_seller_id
        where o.campaign_id = $c order by o.order_line_id""", p)
    if not lines:
        raise ReportError(f"campaign {campaign_id} has no order line in the published warehouse")
    advertiser_id = lines[0]["advertiser_id"]
    names = query("select advertiser_name from {advertisers} where advertiser_id = $a", {"a": advertiser_id})
    digital = [ln for ln in lines if ln["media_type"] in DIGITAL_MEDIA]
    ad_server = "rapports du serveur publicitaire Campaign Manager 360 (inbox/ad_server/)"

    sites = query("select * from {campaign_sites} where campaign_id = $c order by cost_eur desc, site_name", p)
    universe = Section("1° a)", "Univers de diffusion publicitaire (sites et groupes de sites)", [Table(
        "1° a)", "Sites et groupes de sites de diffusion", "1a Univers de diffusion", SITE_COLUMNS,
        [(*r[:1], r[1] or NOT_PROVIDED, *r[2:]) for r in _rows(
            [s | {"site_group": s["site_group_label_fr"]} for s in sites], SITE_COLUMNS)],
        missing("sites de diffusion", ad_server))])
    ungrouped = [s["site_name"] for s in sites if s["site_group"] is None]
    if ungrouped:
        universe.missing.append(missing(f"groupe de sites de {len(ungrouped)} site(s) ({', '.join(ungrouped[:5])})",
                                        "référentiel des groupes de sites (seed site_groups)"))

    creatives = query("select * from {campaign_creatives} where campaign_id = $c order by creative_name, creative_id", p)
    messages = Section("1° b)", "Contenu des messages publicitaires diffusés", [Table(
        "1° b)", "Messages (créations) diffusés", "1b Messages", CREATIVE_COLUMNS,
        [(*r[:2], r[2] or NOT_PROVIDED, *r[3:]) for r in _rows(creatives, CREATIVE_COLUMNS)],
        missing("créations diffusées", ad_server))])
    by_format: dict[str, dict] = {}
    for c in creatives:
        if c["creative_pixel_size"]:
            f = by_format.setdefault(c["creative_pixel_size"], {"format": c["creative_pixel_size"], "creatives": 0,
                                                                "impressions": 0, "clicks": 0})
            f["creatives"] += 1
            f["impressions"] += c["impressions"] or 0
            f["clicks"] += c["clicks"] or 0
    formats = Section("1° c)", "Formats utilisés", [Table(
        "1° c)", "Formats utilisés", "1c Formats", FORMAT_COLUMNS, _rows(list(by_format.values()), FORMAT_COLUMNS),
        missing("formats", "colonne « Creative Pixel Size » des rapports CM360 (inbox/ad_server/)"))])
    if creatives and len(by_format) and any(not c["creative_pixel_size"] for c in creatives):
        formats.missing.append(missing("format de certaines créations", "colonne « Creative Pixel Size » des rapports CM360"))

    kpis = query("""
        select media_type, sum(impressions) as impressions, sum(clicks) as clicks, sum(conversions) as conversions,
               sum(video_completions) as video_completions, sum(cost_eur) as cost_eur
        from {campaign_kpis} where campaign_id = $c group by media_type order by media_type""", p)
    results = Section("1° d)", "Résultat des prestations au regard des indicateurs de performance convenus", [
        Table("1° d)", "Quantités commandées et diffusées par ligne", "1d Lignes", LINE_COLUMNS,
              _rows(digital, LINE_COLUMNS, {"media_type": MEDIA_FR}), missing("lignes digitales", "export des lignes"
                                                                               " de commande (inbox/order_lines/)")),
        Table("1° d)", "Affichages, interactions et actions mesurés", "1d Indicateurs", KPI_COLUMNS,
              _rows(kpis, KPI_COLUMNS, {"media_type": MEDIA_FR}), missing("indicateurs mesurés", ad_server))])
    if kpis and all(k["conversions"] is None for k in kpis):
        results.missing.append(missing("actions (conversions)", "balises Floodlight de l'annonceur dans les rapports"
                                                                " CM360"))

    billed_rows = query("""
        with lines as (
            select purchase_order_id, sum(ordered_net_ht_eur) as ordered_net_ht_eur,
                   sum(invoiced_net_ht_eur) as invoiced_net_ht_eur, sum(credited_net_ht_eur) as credited_net_ht_eur
            from {order_lines} where campaign_id = $c group by purchase_order_id
        ), chorus as (
            select purchase_order_id, count(*) as chorus_invoices, sum(amount_ttc_eur) as chorus_ttc_eur,
                   sum(case when is_paid then amount_ttc_eur end) as paid_ttc_eur
            from {invoice_payments} where purchase_order_id in (select purchase_order_id from lines)
            group by purchase_order_id
        )
        select lines.*, coalesce(chorus.chorus_invoices, 0) as chorus_invoices, chorus.chorus_ttc_eur,
               chorus.paid_ttc_eur
        from lines left join chorus on chorus.purchase_order_id = lines.purchase_order_id
        order by lines.purchase_order_id""", p)
    billed = Section("1° e)", "Montant global facturé pour la campagne", [Table(
        "1° e)", "Montant facturé par bon de commande", "1e Montant facturé", BILLED_COLUMNS,
        _rows(billed_rows, BILLED_COLUMNS))])
    if not any(r["chorus_invoices"] or r["invoiced_net_ht_eur"] for r in billed_rows):
        billed.missing.append(missing("factures de la campagne", "factures reçues par Chorus Pro et factures"
                                                                 " électroniques (inbox/einvoices/)"))

    providers = []
    if sites:
        providers.append({"role": "Serveur publicitaire (comptage de la diffusion)", "name": "Campaign Manager 360",
                          "basis": "rapports CM360 reçus"})
    if any(ln["media_type"] == "email" for ln in lines):
        providers.append({"role": "Routeur e-mail", "name": "routeur de l'agence",
                          "basis": "statistiques par FAI (inbox/email_deliverability/)"})
    for seller in sorted({ln["media_seller_name"] or ln["media_seller_id"] for ln in digital}):
        providers.append({"role": "Régie ou plateforme de diffusion", "name": seller,
                          "basis": "lignes de commande"})
    technology = Section("2° a)", "Outils technologiques, compétences techniques et prestataires techniques", [Table(
        "2° a)", "Prestataires techniques", "2a Technologie", PROVIDER_COLUMNS, _rows(providers, PROVIDER_COLUMNS),
        missing("prestataires techniques", ad_server))], [missing(
            "outils de vérification (visibilité, fraude, contexte) et compétences techniques engagées",
            "déclaration du titulaire (aucune source reçue par mediarecon)")])

    agencies = query("select agency_name, siret from {agencies} order by agency_id", {})
    advisers = Section("2° b)", "Acteurs de conseil, distincts des prestataires de technologie", [Table(
        "2° b)", "Acteurs de conseil", "2b Conseil", PROVIDER_COLUMNS,
        _rows([{"role": "Mandataire (conseil et achat d'espace)", "name": a["agency_name"],
                "basis": f"accord-cadre (SIRET {a['siret']})"} for a in agencies], PROVIDER_COLUMNS),
        missing("mandataire", "référentiel des agences (seed agencies)"))], [missing(
            "autres acteurs de conseil", "déclaration du titulaire (aucune source reçue par mediarecon)")])

    objectives = query("select * from {objectives} where campaign_id = $c order by order_line_id, indicator", p)
    qualitative = Section("2° c)", "Résultats au regard des objectifs qualitatifs fixés avant le lancement", [Table(
        "2° c)", "Objectifs des lignes et résultats", "2c Objectifs", OBJECTIVE_COLUMNS,
        _rows(objectives, OBJECTIVE_COLUMNS, {"indicator": INDICATOR_FR, "status": STATUS_FR}),
        missing("objectifs", "colonnes « Objectif … » de l'export des lignes de commande"))], [missing(
            "ciblage et optimisation", "critères de ciblage du bon de commande (absents de l'export des lignes)")])

    exclusions = query("""
        select * from {brand_safety_exclusions} where advertiser_id = $a
        order by excluded_since_date, exclusion_kind, excluded_value""", {"a": advertiser_id})
    breaches = query("""
        select entity_key, first_date, last_date, amount_at_stake_eur from {findings}
        where finding_type = 'brand_safety_breach' and campaign_id = $c order by first_date, entity_key""", p)
    protection = Section("3°", "Moyens mis en œuvre pour protéger l'image de la marque", [
        Table("3°", "Univers exclus par l'annonceur (liste d'exclusion)", "3 Exclusions", EXCLUSION_COLUMNS,
              _rows(exclusions, EXCLUSION_COLUMNS, {"exclusion_kind": KIND_FR}),
              missing("liste d'exclusion de l'annonceur", "listes de protection de la marque (inbox/brand_safety/)")),
        Table("3°", "Diffusions constatées sur un site exclu", "3 Diffusions exclues", BREACH_COLUMNS,
              _rows([b | {"site_name": b["entity_key"].split("|", 1)[1]} for b in breaches], BREACH_COLUMNS),
              "aucune diffusion sur un site exclu" if exclusions and sites else
              missing("contrôle des sites de diffusion", "liste d'exclusion et rapports CM360"))],
        [missing("outils technologiques de protection (listes d'inclusion, vérification de contexte)",
                 "déclaration du titulaire (aucune source reçue par mediarecon)")])

    charters = Section("4°", "Engagements des chartes de bonnes pratiques", [], [missing(
        "chartes de bonnes pratiques", "engagements déclarés par le titulaire (aucune source reçue par mediarecon)")])

    return CampaignReport(campaign_id, next((ln["campaign_name"] for ln in lines if ln["campaign_name"]), None),
                          names[0]["advertiser_name"] if names else advertiser_id,
                          min((ln["start_date"] for ln in lines if ln["start_date"]), default=None),
                          max((ln["end_date"] for ln in lines if ln["end_date"]), default=None),
                          [universe, messages, formats, results, billed, technology, advisers, qualitative,
                           protection, charters])


def summary(report: CampaignReport) -> list[tuple]:
    """One row per section and per thing it lacks: the report's first sheet."""
    out = []
    for s in report.sections:
        filled = [t for t in s.tables if t.rows]
        if filled:
            out.append((s.number, s.title, "rempli", "; ".join(f"{t.title} : {len(t.rows)} ligne(s)" for t in filled)))
        for t in s.tables:
            if not t.rows:
                out.append((s.number, s.title, "vide" if NOT_PROVIDED not in t.empty else NOT_PROVIDED, t.empty))
        out += [(s.number, s.title, NOT_PROVIDED, m) for m in s.missing]
    return out


def _table_rows(t: Table) -> list[tuple]:
    return t.rows or [(t.empty,) + (None,) * (len(t.columns) - 1)]


def write_report_xlsx(path: "Path | typing.BinaryIO", report: CampaignReport) -> None:
    write_xlsx(path, f"{report.title} — {report.subtitle}", SUMMARY_COLUMNS, summary(report), totals=False,
               more_sheets=tuple((t.sheet, f"{t.section} {t.title}", t.columns, _table_rows(t))
                                 for s in report.sections for t in s.tables))


def _cell(value, kind: str) -> str:
    """A value as a French document writes it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if kind == "date":
        return value.strftime("%d/%m/%Y")
    if kind in ("eur", "dec", "int"):
        places = {"eur": 2, "int": 0}.get(kind, 2)
        text = f"{Decimal(value):,.{places}f}".replace(",", "\u202f").replace(".", ",")
        return text + (" €" if kind == "eur" else "")
    return str(value)


def to_html(report: CampaignReport, heading_level: int = 2) -> str:
    """The report as an HTML fragment (escaped; classes only, no inline style: the dashboard's CSP)."""
    h, e = heading_level, html.escape
    out = [f'<div class="campaign-report" data-testid="campaign-report"><p>{e(report.subtitle)}</p>']
    for s in report.sections:
        out.append(f'<section data-section="{e(s.number)}"><h{h}>{e(s.number)} {e(s.title)}</h{h}>')
        for t in s.tables:
            out.append(f"<h{h + 1}>{e(t.title)}</h{h + 1}>")
            if not t.rows:
                out.append(f'<p class="not-provided">{e(t.empty)}</p>')
                continue
            out.append("<table><thead><tr>" + "".join(
                f'<th{" class=num" if c.kind != "text" and c.kind != "date" else ""}>{e(c.label)}</th>'
                for c in t.columns) + "</tr></thead><tbody>")
            for r in t.rows:
                out.append("<tr>" + "".join(
                    f'<td{" class=num" if c.kind not in ("text", "date") else ""}>{e(_cell(v, c.kind))}</td>'
                    for v, c in zip(r, t.columns)) + "</tr>")
            out.append("</tbody></table>")
        out += [f'<p class="not-provided">{e(m)}</p>' for m in s.missing]
        out.append("</section>")
    out.append("</div>")
    return "\n".join(out)


PDF_STYLE = """
@page { size: A4 landscape; margin: 14mm; }
body { font-family: sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 14pt; } h2 { font-size: 11pt; margin-top: 14pt; } h3 { font-size: 9.5pt; }
table { border-collapse: collapse; width: 100%; margin-bottom: 6pt; }
th, td { border: 0.5pt solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; } .num { text-align: right; white-space: nowrap; }
.not-provided { font-style: italic; color: #8a1c1c; }
section { page-break-inside: auto; }
"""


def to_document(report: CampaignReport) -> str:
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{html.escape(report.title)}'
            f"</title><style>{PDF_STYLE}</style></head><body><h1>{html.escape(report.title)}</h1>"
            f"{to_html(report)}</body></html>")


def chromium() -> str | None:
    """The Chromium that prints the PDF: MEDIARECON_CHROMIUM, else chromium or chromium-browser on the PATH."""
    return os.environ.get("MEDIARECON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def write_report_pdf(path: Path, report: CampaignReport, timeout_s: float = 120) -> None:
    """The report printed to PDF by headless Chromium from a local file: no network (a proxy that leads
    nowhere, background networking off), no profile left behind."""
    browser = chromium()
    if browser is None:
        raise ReportError("--format pdf needs Chromium (the chromium package, or MEDIARECON_CHROMIUM=/path/to/it)")
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "bilan.html"
        page.write_text(to_document(report), encoding="utf-8")
        args = [browser, "--headless", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--proxy-server=127.0.0.1:9",
                f"--user-data-dir={scratch}/profile", "--no-pdf-header-footer", f"--print-to-pdf={path}",
                page.as_uri()]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0 or not path.exists() or path.stat().st_size == 0:
            raise RuntimeError(f"Chromium could not print the PDF (exit {done.returncode}): "
                               + (done.stderr.strip().splitlines() or [""])[-1][:300])


def file_name(campaign_id: str, format: str) -> str:
    return f"bilan_campagne_{campaign_id}.{format}"
