"""The agency's planned pauses of a campaign's flight (media-plan breaks: a silence period, a creative
change). One row per pause; the days of a pause are neither judged nor used as a baseline by the drop
detection."""

import pandera.pandas as pa
import pandas as pd
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

    @pa.dataframe_check(name="pause_ends_on_or_after_its_start")
    def _order(cls, df: pd.DataFrame) -> Series[bool]:
        start = pd.to_datetime(df.pause_start_date, format="%d/%m/%Y", errors="coerce")
        end = pd.to_datetime(df.pause_end_date, format="%d/%m/%Y", errors="coerce")
        return start.isna() | end.isna() | (end >= start)
