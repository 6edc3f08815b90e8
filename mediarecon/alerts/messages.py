"""Notifications in French: subject and body of an alert's opening, escalation or clearing."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from mediarecon import french
from mediarecon.alerts.conditions import DROP_CHANNELS, DROP_RULES
from mediarecon.vocabulary import finding_type_rows

LABELS_FR = {
    "delivery_drop": "Chute de diffusion de la campagne",
    "advertiser_delivery_drop": "Chute de diffusion de l'annonceur",
    "seller_delivery_drop": "Chute de diffusion de la régie",
    "email_deliverability_drop": "Chute de délivrabilité e-mail",
    "email_bounce_rise": "Hausse des rebonds et plaintes e-mail",
    "invoice_payment_due": "Facture à payer sous peu (délai de paiement)",
    "nightly_failed": "Échec du traitement de nuit",
    "nightly_late": "Traitement de nuit non terminé à l'heure",
    "source_stale": "Source sans nouvelles données",
    "source_unavailable": "Source injoignable : nuit publiée sans elle",
}
ENTITY_FR = {
    "delivery_drop": "campagne", "advertiser_delivery_drop": "annonceur", "seller_delivery_drop": "régie",
    "email_deliverability_drop": "campagne|domaine FAI", "email_bounce_rise": "campagne|domaine FAI",
    "invoice_payment_due": "fournisseur|facture", "nightly_failed": "traitement", "nightly_late": "traitement du", "source_stale": "source", "source_unavailable": "source",
}
UNIT_FR = {"ad_server": "impressions", "email": "e-mails délivrés"}


def _fr_date(iso: str | None) -> str:
    return dt.date.fromisoformat(iso[:10]).strftime("%d/%m/%Y") if iso else "—"


def label_fr(rule: str) -> str:
    if rule in LABELS_FR:
        return LABELS_FR[rule]
    return finding_type_rows().get(rule, {}).get("label_fr", rule)


def notify_type(alert: sqlite3.Row, event: str) -> str:
    """apprise's message type, which chat and webhook channels show as a colour or an icon: a resolved
    alert is a success, an open or worsened one a failure when critique (level 2), else a warning."""
    if event == "resolved":
        return "success"
    return "failure" if alert["alert_level"] >= 2 else "warning"


def render(alert: sqlite3.Row, event: str, evidence_names: dict[str, str] | None = None,
           chart: Path | None = None) -> tuple[str, str]:
    """French subject and body of one notification."""
    d = json.loads(alert["details"])
    rule, entity = alert["alert_rule"], alert["entity_key"]
    label = label_fr(rule)
    state = {"opened": "", "escalated": "AGGRAVATION — ", "resolved": "RÉSOLUE — "}[event]
    if event == "opened" and alert["status"] == "resolved":
        state = "CONSTATÉE (terminée) — "
    level = "critique" if alert["alert_level"] >= 2 else "avertissement"
    subject = f"[mediarecon] {state}{label} : {entity} (alerte n° {alert['alert_id']})"
    lines = [
        f"{label} — alerte n° {alert['alert_id']} ({level})",
        "",
        f"Règle : {rule}",
        f"Entité ({ENTITY_FR.get(rule, 'clé')}) : {entity}",
    ]
    if alert["advertiser_id"]:
        lines.append(f"Annonceur : {alert['advertiser_id']}")
    if alert["first_date"]:
        lines.append(f"Période : du {_fr_date(alert['first_date'])} au {_fr_date(alert['last_date'])}")
    status_fr = {"open": "en cours", "acknowledged": "en cours (prise en charge)", "resolved": "terminée"}
    lines.append(f"État : {status_fr[alert['status']]} ; vue pour la première fois le "
                 f"{_fr_date(alert['first_seen_at'])} (traitement {alert['first_seen_run_id']})")
    lines.append("")
    if rule in DROP_RULES:
        unit = UNIT_FR[DROP_CHANNELS[rule]]
        lines.append(f"Volume sur la période : {french.number(d['observed_value'])} {unit} pour une ligne de base de "
                     f"{french.number(d['baseline_value'])} (jour le plus bas : "
                     f"{french.number(d['lowest_share_pct'] or 0, 1)} % de sa ligne de base).")
        lines.append("Ligne de base : médiane du même jour de la semaine sur les semaines précédentes, pauses prévues"
                     " exclues.")
    elif rule == "email_bounce_rise":
        lines.append(f"Taux de rebonds durs + plaintes : jusqu'à {french.number(d['observed_value'], 2)} % contre "
                     f"{french.number(d['baseline_value'], 2)} % habituellement.")
    elif rule == "invoice_payment_due":
        lines.append(f"Reçue il y a {french.number(d['observed_value'])} jours ; délai légal de paiement "
                     f"{french.number(d['baseline_value'])} jours : à payer au plus tard le {_fr_date(alert['last_date'])}"
                     " pour éviter les intérêts moratoires.")
    elif rule == "nightly_failed":
        lines.append(f"Le traitement {d.get('run_id')} a échoué : {d.get('error')}")
        lines.append("L'entrepôt publié est resté celui du dernier traitement réussi.")
    elif rule == "nightly_late":
        lines.append(f"À {d.get('deadline')} (heure de Paris), le traitement de nuit du {_fr_date(d.get('night'))}"
                     f" n'était pas terminé : {d.get('state')}.")
        lines.append("Les constats et alertes du matin manquent ; l'entrepôt publié est celui du dernier"
                     " traitement réussi.")
    elif rule == "source_unavailable":
        lines.append(f"La source n'a pas pu être lue cette nuit ({d.get('reason')}). L'entrepôt a été publié sans"
                     " ses nouvelles données ; le prochain traitement qui l'atteint les reprend, sans trou ni doublon.")
    elif rule == "source_stale":
        if d.get("last_received_at"):
            lines.append(f"Aucun nouveau fichier depuis {d['days_without_data']} jours (dernier reçu le "
                         f"{_fr_date(d['last_received_at'])} ; limite : {d['limit_days']} jours).")
        else:
            lines.append(f"Aucun fichier jamais reçu pour cette source (limite : {d['limit_days']} jours).")
    if d.get("amount_at_stake_eur") not in (None, ""):
        lines.append(f"Montant en jeu : {french.number(d['amount_at_stake_eur'], 2)} € HT")
    lines.append("")
    evidence = []
    sha = d.get("evidence_file_sha256")
    if sha:
        name = (evidence_names or {}).get(sha, "")
        where = f", ligne {d['evidence_line']}" if d.get("evidence_line") is not None else ""
        evidence.append(f"fichier reçu {d.get('evidence_source') or ''} {name} (sha256 {sha[:16]}…){where}")
    if chart is not None:
        evidence.append(f"graphique joint, copie {chart}")
    if d.get("finding_id"):
        evidence.append(f"constat {d['finding_id']} dans fct_findings")
    if d.get("report_path"):
        evidence.append(f"rapport {d['report_path']}")
    if evidence:
        lines.append("Preuve : " + " ; ".join(evidence))
    if d.get("series_key"):
        lines.append(f"Vérifier : mediarecon query \"select * from fct_daily_volumes where series_type = "
                     f"'{d['series_type']}' and series_key = '{d['series_key']}' order by volume_date\"")
    elif d.get("finding_id"):
        lines.append(f"Vérifier : mediarecon query \"select * from fct_findings where finding_id = '{d['finding_id']}'\"")
    if event != "resolved":
        lines.append(f"Prendre en charge : mediarecon alerts ack {alert['alert_id']}")
    return subject, "\n".join(lines) + "\n"


