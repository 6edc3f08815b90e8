"""An advertiser's brand-safety exclusion list (decree 2017-159, 3°: universes it names as harmful to its
image): sites, domains or groups of sites the agency must keep its ads off, each from a date. One row per
excluded entry."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_fr, siret, text

HEADERS = {
    "SIRET annonceur": "advertiser_siret",
    "Type": "exclusion_kind",
    "Site, domaine ou groupe de sites": "excluded_value",
    "Exclu depuis le": "excluded_since_date",
    "Motif": "reason",
}
OPTIONAL = {"reason"}
# site: the ad server's site name exactly; domaine: that domain and its sub-domains; groupe: a group of the
# site_groups seed
EXCLUSION_KINDS = ["site", "domaine", "groupe"]


class BrandSafetyExclusionRow(pa.DataFrameModel):
    advertiser_siret: Series[str] = siret()
    exclusion_kind: Series[str] = text(isin=EXCLUSION_KINDS)
    excluded_value: Series[str] = text(str_matches=r"^[^\s;]{1,253}$")
    excluded_since_date: Series[str] = date_fr()
    reason: Series[str] = text(nullable=True)

    class Config:
        name = "brand_safety_exclusion"
        strict = True
        coerce = True
        unique = ["advertiser_siret", "exclusion_kind", "excluded_value"]
