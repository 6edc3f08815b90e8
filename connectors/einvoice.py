"""Structured e-invoices as Chorus Pro accepts them: UBL 2.1 (Invoice, CreditNote), UN/CEFACT CII D16B
(CrossIndustryInvoice) and Factur-X (a PDF/A-3 carrying a CII). Parsed with lxml into one model, money
as exact Decimal, and checked against the EN 16931 totals arithmetic (rules BR-CO-10 to BR-CO-16).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "ublcn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
CREDIT_NOTE_TYPES = {"381", "396", "532"}
SIRET_SCHEMES = {"0009", "SIRET"}  # ISO 6523 ICD 0009 = SIRET


class EInvoiceError(ValueError):
    """The document is not a readable UBL, CII or Factur-X invoice."""


@dataclass
class Party:
    name: str | None = None
    siret: str | None = None
    vat_id: str | None = None
    identifiers: list[str] = field(default_factory=list)


@dataclass
class AllowanceCharge:
    is_charge: bool
    amount: Decimal
    base_amount: Decimal | None = None
    percent: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    vat_category: str | None = None
    vat_rate: Decimal | None = None


@dataclass
class Line:
    line_id: str
    description: str | None
    quantity: Decimal | None
    unit: str | None
    net_price: Decimal | None
    gross_price: Decimal | None
    price_discount: Decimal | None
    net_amount: Decimal
    vat_category: str | None
    vat_rate: Decimal | None
    allowances_charges: list[AllowanceCharge] = field(default_factory=list)
    order_line_reference: str | None = None  # BT-132: the purchase-order line this line bills
    price_base_quantity: Decimal | None = None  # BT-149: the net price is per this many units (1000 for a CPM)


@dataclass
class VatBreakdown:
    category: str | None
    rate: Decimal | None
    taxable_amount: Decimal | None
    tax_amount: Decimal | None


@dataclass
class Totals:
    line_extension: Decimal | None
    allowances: Decimal | None
    charges: Decimal | None
    tax_exclusive: Decimal | None
    tax: Decimal | None
    tax_inclusive: Decimal | None
    prepaid: Decimal | None
    rounding: Decimal | None
    payable: Decimal | None


@dataclass
class RuleViolation:
    rule: str
    text: str
    expected: Decimal
    actual: Decimal


@dataclass
class EInvoice:
    syntax: str  # ubl, cii or facturx
    number: str
    type_code: str
    issue_date: dt.date | None
    currency: str | None
    seller: Party
    buyer: Party
    buyer_reference: str | None  # BT-10: the Chorus Pro service code
    order_reference: str | None  # BT-13: the purchase order (engagement juridique) number
    preceding_invoices: list[str]  # BT-25: what a credit note corrects (one or several invoices)
    allowances_charges: list[AllowanceCharge]
    totals: Totals
    lines: list[Line]
    vat_breakdown: list[VatBreakdown]

    @property
    def is_credit_note(self) -> bool:
        return self.type_code in CREDIT_NOTE_TYPES

    @property
    def sign(self) -> int:
        """-1 for a credit note: its amounts are written positive and reduce what is owed."""
        return -1 if self.is_credit_note else 1

    def to_dict(self) -> dict:
        """JSON-ready: amounts as exact strings, dates ISO."""
        def clean(v):
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        d = clean(asdict(self))
        d["is_credit_note"] = self.is_credit_note
        d["sign"] = self.sign
        d["arithmetic_violations"] = clean([asdict(v) for v in check_totals(self)])
        return d


# ---------------------------------------------------------------------------------------------- helpers
def _dec(value: str | None) -> Decimal | None:
    if value is None or not value.strip():
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise EInvoiceError(f"not an amount: {value!r}") from None


_compiled = threading.local()  # per thread: an XPath object serialises the threads that share it


def _child(node, path: str):
    """The first element at a child path (`cac:Item/cbc:Name`), or None. The path is compiled once: `find`
    reads it and its namespaces again on every call, which made it the parse's hottest line."""
    xpath = _compiled.__dict__.get(path)
    if xpath is None:
        xpath = _compiled.__dict__[path] = etree.XPath(path, namespaces=NS, smart_strings=False)
    found = xpath(node)
    return found[0] if found else None


def _text(node, path: str) -> str | None:
    found = _child(node, path) if node is not None else None
    return found.text.strip() if found is not None and found.text else None


def _amount_in(node, path: str, currency: str | None) -> Decimal | None:
    """The amount at `path`, the one in the document currency when several currencies are given."""
    candidates = node.findall(path, NS) if node is not None else []
    for c in candidates:
        if currency is None or c.get("currencyID") in (None, currency):
            return _dec(c.text)
    return _dec(candidates[0].text) if candidates else None


def _party_ids(values: list[tuple[str | None, str | None]]) -> tuple[str | None, list[str]]:
    siret, ids = None, []
    for scheme, value in values:
        if not value:
            continue
        ids.append(f"{scheme}:{value}" if scheme else value)
        digits = value.replace(" ", "")
        if siret is None and (scheme in SIRET_SCHEMES or (scheme is None and digits.isdigit() and len(digits) == 14)):
            siret = digits
    return siret, ids


def _date(value: str | None, fmt: str) -> dt.date | None:
    return dt.datetime.strptime(value, fmt).date() if value else None


# ---------------------------------------------------------------------------------------------- UBL
def _ubl_party(party) -> Party:
    if party is None:
        return Party()
    pairs = [(e.get("schemeID"), e.text and e.text.strip()) for e in party.findall("cac:PartyIdentification/cbc:ID", NS)]
    pairs += [(e.get("schemeID"), e.text and e.text.strip())
              for e in party.findall("cac:PartyLegalEntity/cbc:CompanyID", NS)]
    siret, ids = _party_ids(pairs)
    return Party(name=_text(party, "cac:PartyName/cbc:Name") or _text(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
                 siret=siret, vat_id=_text(party, "cac:PartyTaxScheme/cbc:CompanyID"), identifiers=ids)


def _ubl_allowance(node) -> AllowanceCharge:
    return AllowanceCharge(
        is_charge=_text(node, "cbc:ChargeIndicator") == "true", amount=_dec(_text(node, "cbc:Amount")),
        base_amount=_dec(_text(node, "cbc:BaseAmount")), percent=_dec(_text(node, "cbc:MultiplierFactorNumeric")),
        reason=_text(node, "cbc:AllowanceChargeReason"), reason_code=_text(node, "cbc:AllowanceChargeReasonCode"),
        vat_category=_text(node, "cac:TaxCategory/cbc:ID"), vat_rate=_dec(_text(node, "cac:TaxCategory/cbc:Percent")))


def parse_ubl(root) -> EInvoice:
    credit = etree.QName(root).localname == "CreditNote"
    currency = _text(root, "cbc:DocumentCurrencyCode")
    tax_total = next((t for t in root.findall("cac:TaxTotal", NS)
                      if t.find("cbc:TaxAmount", NS) is not None
                      and t.find("cbc:TaxAmount", NS).get("currencyID") in (None, currency)), None)
    mt = root.find("cac:LegalMonetaryTotal", NS)
    lines = []
    for ln in root.findall("cac:CreditNoteLine" if credit else "cac:InvoiceLine", NS):
        qty = ln.find("cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity", NS)
        price = ln.find("cac:Price", NS)
        price_ac = price.find("cac:AllowanceCharge", NS) if price is not None else None
        lines.append(Line(
            line_id=_text(ln, "cbc:ID"),
            description=_text(ln, "cac:Item/cbc:Name") or _text(ln, "cac:Item/cbc:Description"),
            quantity=_dec(qty.text) if qty is not None else None, unit=qty.get("unitCode") if qty is not None else None,
            net_price=_dec(_text(price, "cbc:PriceAmount")),
            gross_price=_dec(_text(price_ac, "cbc:BaseAmount")), price_discount=_dec(_text(price_ac, "cbc:Amount")),
            net_amount=_dec(_text(ln, "cbc:LineExtensionAmount")),
            vat_category=_text(ln, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
            vat_rate=_dec(_text(ln, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent")),
            allowances_charges=[_ubl_allowance(a) for a in ln.findall("cac:AllowanceCharge", NS)],
            order_line_reference=_text(ln, "cac:OrderLineReference/cbc:LineID"),
            price_base_quantity=_dec(_text(price, "cbc:BaseQuantity"))))
    return EInvoice(
        syntax="ubl", number=_text(root, "cbc:ID"),
        type_code=_text(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode") or ("381" if credit else "380"),
        issue_date=_date(_text(root, "cbc:IssueDate"), "%Y-%m-%d"), currency=currency,
        seller=_ubl_party(root.find("cac:AccountingSupplierParty/cac:Party", NS)),
        buyer=_ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", NS)),
        buyer_reference=_text(root, "cbc:BuyerReference"), order_reference=_text(root, "cac:OrderReference/cbc:ID"),
        preceding_invoices=[e.text.strip() for e in root.findall(
            "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", NS) if e.text and e.text.strip()],
        allowances_charges=[_ubl_allowance(a) for a in root.findall("cac:AllowanceCharge", NS)],
        totals=Totals(
            line_extension=_dec(_text(mt, "cbc:LineExtensionAmount")), allowances=_dec(_text(mt, "cbc:AllowanceTotalAmount")),
            charges=_dec(_text(mt, "cbc:ChargeTotalAmount")), tax_exclusive=_dec(_text(mt, "cbc:TaxExclusiveAmount")),
            tax=_amount_in(tax_total, "cbc:TaxAmount", currency) if tax_total is not None else None,
            tax_inclusive=_dec(_text(mt, "cbc:TaxInclusiveAmount")), prepaid=_dec(_text(mt, "cbc:PrepaidAmount")),
            rounding=_dec(_text(mt, "cbc:PayableRoundingAmount")), payable=_dec(_text(mt, "cbc:PayableAmount"))),
        lines=lines,
        vat_breakdown=[VatBreakdown(_text(s, "cac:TaxCategory/cbc:ID"), _dec(_text(s, "cac:TaxCategory/cbc:Percent")),
                                    _dec(_text(s, "cbc:TaxableAmount")), _dec(_text(s, "cbc:TaxAmount")))
                       for s in (tax_total.findall("cac:TaxSubtotal", NS) if tax_total is not None else [])])


# ---------------------------------------------------------------------------------------------- CII
def _cii_party(party) -> Party:
    if party is None:
        return Party()
    pairs = [(None, e.text and e.text.strip()) for e in party.findall("ram:ID", NS)]
    pairs += [(e.get("schemeID"), e.text and e.text.strip()) for e in party.findall("ram:GlobalID", NS)]
    pairs += [(e.get("schemeID"), e.text and e.text.strip())
              for e in party.findall("ram:SpecifiedLegalOrganization/ram:ID", NS)]
    siret, ids = _party_ids(pairs)
    vat = next((e.text.strip() for e in party.findall("ram:SpecifiedTaxRegistration/ram:ID", NS)
                if e.get("schemeID") == "VA" and e.text), None)
    return Party(name=_text(party, "ram:Name"), siret=siret, vat_id=vat, identifiers=ids)


def _cii_allowance(node) -> AllowanceCharge:
    return AllowanceCharge(
        is_charge=_text(node, "ram:ChargeIndicator/udt:Indicator") == "true", amount=_dec(_text(node, "ram:ActualAmount")),
        base_amount=_dec(_text(node, "ram:BasisAmount")), percent=_dec(_text(node, "ram:CalculationPercent")),
        reason=_text(node, "ram:Reason"), reason_code=_text(node, "ram:ReasonCode"),
        vat_category=_text(node, "ram:CategoryTradeTax/ram:CategoryCode"),
        vat_rate=_dec(_text(node, "ram:CategoryTradeTax/ram:RateApplicablePercent")))


def parse_cii(root, syntax: str = "cii") -> EInvoice:
    tx = root.find("rsm:SupplyChainTradeTransaction", NS)
    agreement = tx.find("ram:ApplicableHeaderTradeAgreement", NS)
    settlement = tx.find("ram:ApplicableHeaderTradeSettlement", NS)
    currency = _text(settlement, "ram:InvoiceCurrencyCode")
    ms = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    lines = []
    for item in tx.findall("ram:IncludedSupplyChainTradeLineItem", NS):
        la = item.find("ram:SpecifiedLineTradeAgreement", NS)
        ls = item.find("ram:SpecifiedLineTradeSettlement", NS)
        qty = item.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", NS)
        lines.append(Line(
            line_id=_text(item, "ram:AssociatedDocumentLineDocument/ram:LineID"),
            description=_text(item, "ram:SpecifiedTradeProduct/ram:Name"),
            quantity=_dec(qty.text) if qty is not None else None, unit=qty.get("unitCode") if qty is not None else None,
            net_price=_dec(_text(la, "ram:NetPriceProductTradePrice/ram:ChargeAmount")),
            gross_price=_dec(_text(la, "ram:GrossPriceProductTradePrice/ram:ChargeAmount")),
            price_discount=_dec(_text(la, "ram:GrossPriceProductTradePrice/ram:AppliedTradeAllowanceCharge/ram:ActualAmount")),
            net_amount=_dec(_text(ls, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")),
            vat_category=_text(ls, "ram:ApplicableTradeTax/ram:CategoryCode"),
            vat_rate=_dec(_text(ls, "ram:ApplicableTradeTax/ram:RateApplicablePercent")),
            allowances_charges=[_cii_allowance(a) for a in ls.findall("ram:SpecifiedTradeAllowanceCharge", NS)],
            order_line_reference=_text(la, "ram:BuyerOrderReferencedDocument/ram:LineID"),
            price_base_quantity=_dec(_text(la, "ram:NetPriceProductTradePrice/ram:BasisQuantity"))))
    return EInvoice(
        syntax=syntax, number=_text(root, "rsm:ExchangedDocument/ram:ID"),
        type_code=_text(root, "rsm:ExchangedDocument/ram:TypeCode") or "380",
        issue_date=_date(_text(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"), "%Y%m%d"),
        currency=currency, seller=_cii_party(agreement.find("ram:SellerTradeParty", NS)),
        buyer=_cii_party(agreement.find("ram:BuyerTradeParty", NS)),
        buyer_reference=_text(agreement, "ram:BuyerReference"),
        order_reference=_text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        preceding_invoices=[e.text.strip() for e in settlement.findall(
            "ram:InvoiceReferencedDocument/ram:IssuerAssignedID", NS) if e.text and e.text.strip()],
        allowances_charges=[_cii_allowance(a) for a in settlement.findall("ram:SpecifiedTradeAllowanceCharge", NS)],
        totals=Totals(
            line_extension=_dec(_text(ms, "ram:LineTotalAmount")), allowances=_dec(_text(ms, "ram:AllowanceTotalAmount")),
            charges=_dec(_text(ms, "ram:ChargeTotalAmount")), tax_exclusive=_dec(_text(ms, "ram:TaxBasisTotalAmount")),
            tax=_amount_in(ms, "ram:TaxTotalAmount", currency), tax_inclusive=_dec(_text(ms, "ram:GrandTotalAmount")),
            prepaid=_dec(_text(ms, "ram:TotalPrepaidAmount")), rounding=_dec(_text(ms, "ram:RoundingAmount")),
            payable=_dec(_text(ms, "ram:DuePayableAmount"))),
        lines=lines,
        vat_breakdown=[VatBreakdown(_text(t, "ram:CategoryCode"), _dec(_text(t, "ram:RateApplicablePercent")),
                                    _dec(_text(t, "ram:BasisAmount")), _dec(_text(t, "ram:CalculatedAmount")))
                       for t in settlement.findall("ram:ApplicableTradeTax", NS)])


# ---------------------------------------------------------------------------------------------- entry
def parse_bytes(data: bytes, name: str = "document") -> EInvoice:
    """UBL, CII or Factur-X, told apart by content (magic bytes, then the XML root)."""
    syntax = None
    if data.startswith(b"%PDF"):
        from facturx import get_xml_from_pdf

        try:
            _, xml = get_xml_from_pdf(data, check_xsd=False)
        except Exception as e:  # factur-x raises plain Exceptions on a broken PDF
            raise EInvoiceError(f"{name}: not a readable Factur-X PDF ({e})") from None
        if not xml:
            raise EInvoiceError(f"{name}: PDF without an embedded Factur-X / ZUGFeRD XML")
        data, syntax = xml, "facturx"
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        raise EInvoiceError(f"{name}: not well-formed XML ({e})") from None
    local = etree.QName(root).localname
    try:
        if local in ("Invoice", "CreditNote") and etree.QName(root).namespace in (NS["ubl"], NS["ublcn"]):
            return parse_ubl(root)
        if local == "CrossIndustryInvoice":
            return parse_cii(root, syntax or "cii")
    except (AttributeError, EInvoiceError) as e:
        raise EInvoiceError(f"{name}: incomplete {local} ({e})") from None
    raise EInvoiceError(f"{name}: root element {local!r} is neither a UBL Invoice/CreditNote nor a CII invoice")


def parse_file(path: Path) -> EInvoice:
    path = Path(path)
    return parse_bytes(path.read_bytes(), path.name)


def check_totals(inv: EInvoice) -> list[RuleViolation]:
    """The EN 16931 totals arithmetic. Absent optional totals count as zero."""
    t = inv.totals
    z = Decimal("0")
    doc_allowances = sum((a.amount for a in inv.allowances_charges if not a.is_charge), z)
    doc_charges = sum((a.amount for a in inv.allowances_charges if a.is_charge), z)
    checks = [
        ("BR-CO-10", "sum of line net amounts = line extension amount",
         sum((ln.net_amount for ln in inv.lines), z), t.line_extension),
        ("BR-CO-11", "sum of document allowances = allowance total", doc_allowances, t.allowances or z),
        ("BR-CO-12", "sum of document charges = charge total", doc_charges, t.charges or z),
        ("BR-CO-13", "line extension - allowances + charges = tax exclusive",
         (t.line_extension or z) - (t.allowances or z) + (t.charges or z), t.tax_exclusive),
        ("BR-CO-15", "tax exclusive + tax = tax inclusive", (t.tax_exclusive or z) + (t.tax or z), t.tax_inclusive),
        ("BR-CO-16", "tax inclusive - prepaid + rounding = payable",
         (t.tax_inclusive or z) - (t.prepaid or z) + (t.rounding or z), t.payable),
    ]
    return [RuleViolation(rule, text, expected, actual if actual is not None else z)
            for rule, text, expected, actual in checks if actual is None or expected != actual]
