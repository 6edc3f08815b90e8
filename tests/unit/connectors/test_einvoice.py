"""E-invoice parsing on the 22 real EN 16931 examples, a credit note, Factur-X, and a broken total."""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.einvoice import EInvoiceError, check_totals, parse_bytes, parse_file
from mediarecon.cli import app

# the shared folder sits beside the repository (CI clones it that way)
FIXTURES = Path(os.environ.get("MEDIARECON_EN16931_FIXTURES",
                               Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "en16931"))
ALL = sorted(FIXTURES.rglob("*.xml"))


def test_there_are_22_examples():
    assert len(ALL) == 22


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_example_parses_and_its_totals_add_up(path):
    inv = parse_file(path)
    assert inv.number and inv.currency and inv.lines
    assert check_totals(inv) == []
    assert sum(ln.net_amount for ln in inv.lines) == inv.totals.line_extension
    assert all(isinstance(ln.net_amount, Decimal) for ln in inv.lines)


def test_ubl_example1_values_by_hand():
    inv = parse_file(FIXTURES / "ubl" / "ubl-tc434-example1.xml")
    t = inv.totals
    assert (inv.syntax, inv.type_code, inv.number, inv.currency) == ("ubl", "380", "12115118", "EUR")
    assert (t.line_extension, t.tax_exclusive, t.tax_inclusive, t.payable) == (
        Decimal("229.60"), Decimal("229.60"), Decimal("250.33"), Decimal("250.33"))
    first = inv.lines[0]
    assert (first.line_id, first.quantity, first.unit, first.net_price, first.net_amount, first.vat_rate) == (
        "1", Decimal("2"), "EA", Decimal("9.95"), Decimal("19.90"), Decimal("6"))
    assert inv.seller.name == "De Koksmaat" and len(inv.lines) == 20


def test_ubl_and_cii_versions_of_one_invoice_agree():
    ubl = parse_file(FIXTURES / "ubl" / "ubl-tc434-example1.xml")
    cii = parse_file(FIXTURES / "cii" / "CII_example1.xml")
    assert (ubl.number, ubl.totals.payable, ubl.totals.tax) == (cii.number, cii.totals.payable, cii.totals.tax)
    assert [ln.net_amount for ln in ubl.lines] == [ln.net_amount for ln in cii.lines]


def test_credit_note_carries_the_negative_sign():
    inv = parse_file(FIXTURES / "ubl" / "ubl-tc434-creditnote1.xml")
    assert inv.is_credit_note and inv.sign == -1 and inv.type_code == "381"
    assert inv.totals.payable == Decimal("100.11")  # written positive, reduces what is owed
    doc = inv.to_dict()
    assert doc["sign"] == -1 and doc["totals"]["payable"] == "100.11"


def test_order_reference_and_allowances_are_read():
    inv = parse_file(FIXTURES / "ubl" / "ubl-tc434-example5.xml")
    assert inv.order_reference == "PO4711"
    assert inv.allowances_charges or any(ln.allowances_charges for ln in inv.lines) or inv.totals.prepaid


def test_factur_x_pdf_is_read_through_its_embedded_cii():
    from facturx import generate_from_binary

    from simulators.einvoice_documents import invoice_pdf

    xml = (FIXTURES / "cii" / "CII_example1.xml").read_bytes()
    pdf = generate_from_binary(invoice_pdf({"numeroFacture": "12115118", "designationFournisseur": "De Koksmaat",
                                     "montantTTC": "250.33"}), xml, check_xsd=False, flavor="factur-x",
                               level="en16931")
    inv = parse_bytes(pdf, "facture.pdf")
    assert (inv.syntax, inv.number, inv.totals.payable) == ("facturx", "12115118", Decimal("250.33"))
    with pytest.raises(EInvoiceError, match="facture-seule.pdf: PDF without an embedded"):
        parse_bytes(invoice_pdf({"numeroFacture": "1", "designationFournisseur": "x", "montantTTC": "1"}),
                    "facture-seule.pdf")


def test_broken_line_total_is_named_br_co_10(tmp_path):
    text = (FIXTURES / "ubl" / "ubl-tc434-example1.xml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.xml"
    # first line's net amount 19.90 -> 29.90: the lines no longer add up to the line extension 229.60
    broken.write_text(text.replace(">19.90</cbc:LineExtensionAmount>", ">29.90</cbc:LineExtensionAmount>", 1),
                      encoding="utf-8")
    violations = check_totals(parse_file(broken))
    assert [(v.rule, v.expected, v.actual) for v in violations] == [
        ("BR-CO-10", Decimal("239.60"), Decimal("229.60"))]
    result = CliRunner().invoke(app, ["parse-invoice", str(broken)])
    assert result.exit_code == 0
    assert "BR-CO-10: sum of line net amounts = line extension amount: expected 239.60, found 229.60" in result.output


def test_parse_invoice_command_json_keeps_amounts_exact():
    result = CliRunner().invoke(app, ["parse-invoice", str(FIXTURES / "cii" / "CII_example8.xml"), "--format",
                                      "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["totals"]["payable"] == "1099.78" and doc["arithmetic_violations"] == []
    assert all(isinstance(ln["net_amount"], str) for ln in doc["lines"])


def test_not_an_invoice_is_a_clear_error(tmp_path):
    p = tmp_path / "order.xml"
    p.write_text("<Order/>")
    result = CliRunner().invoke(app, ["parse-invoice", str(p)])
    assert result.exit_code == 1 and "order.xml: root element 'Order'" in result.output
