"""A decision taken on the dashboard becomes one new file of the admission_decisions drop, which the door
validates like any dropped file; nothing is ever overwritten."""

import datetime as dt

import pytest

from mediarecon.ingest.decisions import DecisionError, record_decision
from mediarecon.ingest.sources import SOURCES
from mediarecon.ingest.tabular import validate_table

NOW = dt.datetime(2025, 4, 2, 8, 15, tzinfo=dt.timezone.utc)  # 10:15 in Paris (summer time)


def test_a_decision_is_a_new_drop_file_the_door_validates(tmp_path):
    path = record_decision(tmp_path, "2500000001", "réfaction", "1 250,5", "Visibilité  insuffisante\n(bilan)",
                           "annonceur.spf", now=NOW)
    assert path.parent == tmp_path and not path.name.startswith(".") and [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.read_text(encoding="utf-8").splitlines()[1] == (
        "2500000001;réfaction;1250,50;Visibilité insuffisante (bilan);annonceur.spf;2025-04-02 10:15")
    spec = SOURCES["admission_decisions"]
    result = validate_table(spec, spec.reader(path), path.name)
    assert result.reject_reason is None and result.quarantine == [] and len(result.valid) == 1
    later = record_decision(tmp_path, "2500000001", "admission", "", "", "annonceur.spf", now=NOW + dt.timedelta(minutes=3))
    assert later != path and path.exists()  # appended, never edited


@pytest.mark.parametrize("decision,amount,reason,says", [
    ("rejet", "", "", "motivé"),
    ("réfaction", "", "Visibilité", "montant"),
    ("réfaction", "-5", "Visibilité", "positif"),
    ("réfaction", "12,345", "Visibilité", "deux décimales"),
    ("admission", "100", "", "seule une réfaction"),
    ("acceptée", "", "", "admission, ajournement"),
])
def test_a_decision_the_contract_refuses_writes_nothing(tmp_path, decision, amount, reason, says):
    with pytest.raises(DecisionError, match=says):
        record_decision(tmp_path, "2500000001", decision, amount, reason, "annonceur.spf", now=NOW)
    assert list(tmp_path.iterdir()) == []


def test_two_decisions_on_one_order_in_one_minute_keep_the_first(tmp_path):
    first = record_decision(tmp_path, "2500000001", "ajournement", "", "", "a", now=NOW)
    with pytest.raises(DecisionError, match="réessayez"):
        record_decision(tmp_path, "2500000001", "admission", "", "", "b", now=NOW + dt.timedelta(seconds=20))
    assert [p.name for p in tmp_path.iterdir()] == [first.name] and ";ajournement;" in first.read_text(encoding="utf-8")
