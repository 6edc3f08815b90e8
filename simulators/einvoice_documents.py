"""Régie invoices written as the e-invoice syntaxes Chorus Pro accepts: UBL 2.1 (Invoice, CreditNote),
UN/CEFACT CII D16B and Factur-X (a PDF carrying the CII). One simulator-side model, three renderings,
so the same invoice can be sent as several documents (the Chorus Pro copy and a copy by e-mail).

Media lines carry the list (gross) price, one line allowance per discount type with its reason, and the
net; VAT 20 %. Totals follow EN 16931 (BR-CO-10..16) unless `stated_line_extension` says otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

CENT = Decimal("0.01")
VAT_PERCENT = Decimal("20")
UNIT_CODE = "C62"  # UN/ECE rec. 20 "one": spots, insertions, faces, impressions, clicks are counted

# discount type -> (reason as the régies write it, UNTDID 5189 allowance reason code)
DISCOUNT_REASONS = {
    "volume": ("Remise dégressif", "95"),
    "public_interest": ("Abattement intérêt général", "100"),
    "professional": ("Remise professionnelle", "104"),
    "cumul_mandats": ("Cumul des mandats", "102"),
}


def money(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class DocLine:
    line_id: str
    order_line_ref: str | None  # BT-132, the purchase-order line number
    description: str
    quantity: Decimal
    price: Decimal  # gross (list) price per base_quantity units
    base_quantity: Decimal = Decimal("1")
    allowances: list[tuple[str, str, Decimal]] = field(default_factory=list)  # (reason, code, amount)

    @property
    def gross(self) -> Decimal:
        return money(self.quantity * self.price / self.base_quantity)

    @property
    def net(self) -> Decimal:
        return self.gross - sum((a for _, _, a in self.allowances), Decimal("0"))


@dataclass
class Document:
    number: str
    type_code: str  # 380 invoice, 381 credit note
    issue_date: dt.date
    seller_siret: str
    seller_name: str
    buyer_siret: str
    buyer_name: str
    buyer_reference: str  # BT-10, the Chorus Pro service code
    order_reference: str  # BT-13, the purchase order number
    lines: list[DocLine]
    preceding_invoices: list[str] = field(default_factory=list)  # BT-25
    stated_line_extension: Decimal | None = None  # set to write a document that breaks BR-CO-10

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == "381"

    @property
    def line_extension(self) -> Decimal:
        return sum((ln.net for ln in self.lines), Decimal("0"))

    @property
    def tax_exclusive(self) -> Decimal:
        return self.stated_line_extension if self.stated_line_extension is not None else self.line_extension

    @property
    def vat(self) -> Decimal:
        return money(self.tax_exclusive * VAT_PERCENT / 100)

    @property
    def tax_inclusive(self) -> Decimal:
        return self.tax_exclusive + self.vat


# ---------------------------------------------------------------------------------------------- UBL
def to_ubl(d: Document) -> str:
    root, line_tag, qty_tag = (("CreditNote", "CreditNoteLine", "CreditedQuantity") if d.is_credit_note
                               else ("Invoice", "InvoiceLine", "InvoicedQuantity"))
    billing = "".join(f"\n  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{escape(p)}</cbc:ID>"
                      f"</cac:InvoiceDocumentReference></cac:BillingReference>" for p in d.preceding_invoices)
    lines = []
    for ln in d.lines:
        allowances = "".join(
            f"\n    <cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
            f"<cbc:AllowanceChargeReasonCode>{code}</cbc:AllowanceChargeReasonCode>"
            f"<cbc:AllowanceChargeReason>{escape(reason)}</cbc:AllowanceChargeReason>"
            f"<cbc:Amount currencyID=\"EUR\">{amount}</cbc:Amount></cac:AllowanceCharge>"
            for reason, code, amount in ln.allowances)
        ref = (f"\n    <cac:OrderLineReference><cbc:LineID>{ln.order_line_ref}</cbc:LineID></cac:OrderLineReference>"
               if ln.order_line_ref else "")
        lines.append(f"""  <cac:{line_tag}>
    <cbc:ID>{ln.line_id}</cbc:ID>
    <cbc:{qty_tag} unitCode="{UNIT_CODE}">{ln.quantity}</cbc:{qty_tag}>
    <cbc:LineExtensionAmount currencyID="EUR">{ln.net}</cbc:LineExtensionAmount>{ref}{allowances}
    <cac:Item><cbc:Name>{escape(ln.description)}</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>{VAT_PERCENT}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">{ln.price}</cbc:PriceAmount><cbc:BaseQuantity unitCode="{UNIT_CODE}">{ln.base_quantity}</cbc:BaseQuantity></cac:Price>
  </cac:{line_tag}>""")
    type_tag = "CreditNoteTypeCode" if d.is_credit_note else "InvoiceTypeCode"
    lines_xml = "\n".join(lines)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>{escape(d.number)}</cbc:ID>
  <cbc:IssueDate>{d.issue_date.isoformat()}</cbc:IssueDate>
  <cbc:{type_tag}>{d.type_code}</cbc:{type_tag}>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{escape(d.buyer_reference)}</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>{escape(d.order_reference)}</cbc:ID></cac:OrderReference>{billing}
  <cac:AccountingSupplierParty><cac:Party><cac:PartyIdentification><cbc:ID schemeID="0009">{d.seller_siret}</cbc:ID></cac:PartyIdentification><cac:PartyName><cbc:Name>{escape(d.seller_name)}</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party><cac:PartyIdentification><cbc:ID schemeID="0009">{d.buyer_siret}</cbc:ID></cac:PartyIdentification><cac:PartyName><cbc:Name>{escape(d.buyer_name)}</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="EUR">{d.vat}</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{d.tax_exclusive}</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">{d.vat}</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>{VAT_PERCENT}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{d.tax_exclusive}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{d.tax_exclusive}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{d.tax_inclusive}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{d.tax_inclusive}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
{lines_xml}
</{root}>
"""


# ---------------------------------------------------------------------------------------------- CII
def to_cii(d: Document) -> str:
    items = []
    for ln in d.lines:
        allowances = "".join(
            f"<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator>"
            f"</ram:ChargeIndicator><ram:ActualAmount>{amount}</ram:ActualAmount><ram:ReasonCode>{code}"
            f"</ram:ReasonCode><ram:Reason>{escape(reason)}</ram:Reason></ram:SpecifiedTradeAllowanceCharge>"
            for reason, code, amount in ln.allowances)
        ref = (f"<ram:BuyerOrderReferencedDocument><ram:LineID>{ln.order_line_ref}</ram:LineID>"
               f"</ram:BuyerOrderReferencedDocument>" if ln.order_line_ref else "")
        items.append(f"""  <ram:IncludedSupplyChainTradeLineItem>
   <ram:AssociatedDocumentLineDocument><ram:LineID>{ln.line_id}</ram:LineID></ram:AssociatedDocumentLineDocument>
   <ram:SpecifiedTradeProduct><ram:Name>{escape(ln.description)}</ram:Name></ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement>{ref}<ram:NetPriceProductTradePrice><ram:ChargeAmount>{ln.price}</ram:ChargeAmount><ram:BasisQuantity unitCode="{UNIT_CODE}">{ln.base_quantity}</ram:BasisQuantity></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="{UNIT_CODE}">{ln.quantity}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>{VAT_PERCENT}</ram:RateApplicablePercent></ram:ApplicableTradeTax>{allowances}<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{ln.net}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
  </ram:IncludedSupplyChainTradeLineItem>""")
    preceding = "".join(f"<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>{escape(p)}</ram:IssuerAssignedID>"
                        f"</ram:InvoiceReferencedDocument>" for p in d.preceding_invoices)
    items_xml = "\n".join(items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
 <rsm:ExchangedDocument><ram:ID>{escape(d.number)}</ram:ID><ram:TypeCode>{d.type_code}</ram:TypeCode><ram:IssueDateTime><udt:DateTimeString format="102">{d.issue_date:%Y%m%d}</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
{items_xml}
  <ram:ApplicableHeaderTradeAgreement>
   <ram:BuyerReference>{escape(d.buyer_reference)}</ram:BuyerReference>
   <ram:SellerTradeParty><ram:Name>{escape(d.seller_name)}</ram:Name><ram:SpecifiedLegalOrganization><ram:ID schemeID="0009">{d.seller_siret}</ram:ID></ram:SpecifiedLegalOrganization></ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>{escape(d.buyer_name)}</ram:Name><ram:SpecifiedLegalOrganization><ram:ID schemeID="0009">{d.buyer_siret}</ram:ID></ram:SpecifiedLegalOrganization></ram:BuyerTradeParty>
   <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>{escape(d.order_reference)}</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeDelivery/>
  <ram:ApplicableHeaderTradeSettlement>
   <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:ApplicableTradeTax><ram:CalculatedAmount>{d.vat}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>{d.tax_exclusive}</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>{VAT_PERCENT}</ram:RateApplicablePercent></ram:ApplicableTradeTax>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation><ram:LineTotalAmount>{d.tax_exclusive}</ram:LineTotalAmount><ram:TaxBasisTotalAmount>{d.tax_exclusive}</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID="EUR">{d.vat}</ram:TaxTotalAmount><ram:GrandTotalAmount>{d.tax_inclusive}</ram:GrandTotalAmount><ram:DuePayableAmount>{d.tax_inclusive}</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>{preceding}
  </ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""


def to_facturx(d: Document) -> bytes:
    """A small PDF naming the invoice, with its CII embedded as factur-x.xml (profile EN 16931).
    Stamped at the issue date rather than now, so that the same seed gives the same bytes."""
    import facturx.facturx as fx


    visible = invoice_pdf({"numeroFacture": d.number, "designationFournisseur": d.seller_name,
                    "montantTTC": str(d.tax_inclusive)})
    issued = dt.datetime(d.issue_date.year, d.issue_date.month, d.issue_date.day, 9, tzinfo=dt.timezone.utc)
    stamps = fx._get_pdf_timestamp, fx._get_metadata_timestamp
    fx._get_pdf_timestamp = lambda date=None: stamps[0](date or issued)
    fx._get_metadata_timestamp = lambda: issued.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    try:
        return fx.generate_from_binary(visible, to_cii(d).encode("utf-8"), flavor="factur-x", level="en16931",
                                       check_xsd=False, pdf_metadata={"author": d.seller_name, "title": d.number,
                                                                      "subject": d.number, "keywords": "Factur-X"})
    finally:
        fx._get_pdf_timestamp, fx._get_metadata_timestamp = stamps


def render(d: Document, syntax: str) -> bytes:
    if syntax == "ubl":
        return to_ubl(d).encode("utf-8")
    if syntax == "cii":
        return to_cii(d).encode("utf-8")
    if syntax == "facturx":
        return to_facturx(d)
    raise ValueError(f"unknown e-invoice syntax {syntax!r}")


def invoice_pdf(inv: dict) -> bytes:
    """A small valid one-page PDF naming the invoice (the 'PDF' download format)."""
    text = f"Facture {inv['numeroFacture']} - {inv['designationFournisseur']} - {inv['montantTTC']} EUR TTC"
    text = text.encode("latin-1", "replace").decode("latin-1").replace("(", "[").replace(")", "]")
    stream = f"BT /F1 11 Tf 40 800 Td ({text}) Tj ET".encode("latin-1")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for n, obj in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()
