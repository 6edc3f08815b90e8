"""The agency's planned pauses of a campaign's flight (media-plan breaks: a silence period, a creative
change). One row per pause; the days of a pause are neither judged nor used as a baseline by the drop
detection."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_fr, text

HEADERS = {
    "Campagne": "campaign_id",
    "Début de pause": "pause_start_date",
    "Fin de pause": "pause_end_date",
    "Motif": "reason",
}
OPTIONAL = {"reason"}


class PlannedPauseRow(pa.DataFrameModel):
    campaign_id: Series[str] = text(str_matches=r"^CMP-\d{4}-\d{4}$")
    pause_start_date: Series[str] = date_fr()
    pause_end_date: Series[str] = date_fr()
    reason: Series[str] = text(nullable=True)

    class Config:
        name = "planned_pause"
        strict = True
        coerce = True
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "pause_ends_on_or_after_its_start": "pause_end_date >= pause_start_date",
        }}
