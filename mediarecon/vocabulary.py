"""The finding / anomaly vocabulary, read from its single home: the `finding_types` dbt seed.

The generator labels anomalies with these types, dbt emits findings with them, and tests compare the
two; a type that is not in the seed is a bug wherever it appears.
"""

import csv
from functools import cache

from mediarecon.paths import REFERENCE_SEEDS_DIR

FINDING_TYPES_SEED = REFERENCE_SEEDS_DIR / "finding_types.csv"


@cache
def finding_type_rows() -> dict[str, dict]:
    """finding_type -> its seed row (label_fr, default_severity, description...)."""
    with FINDING_TYPES_SEED.open(encoding="utf-8", newline="") as f:
        return {row["finding_type"]: row for row in csv.DictReader(f)}


def finding_types() -> tuple[str, ...]:
    return tuple(finding_type_rows())


def check_finding_type(finding_type: str) -> str:
    if finding_type not in finding_types():
        raise ValueError(
            f"unknown finding type {finding_type!r}: add it to {FINDING_TYPES_SEED} first"
        )
    return finding_type
