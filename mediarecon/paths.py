"""Where the product's own files live (not the data: that is under MEDIARECON_HOME)."""

import csv
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parent / "dbt_project"  # package data: shipped in the wheel
REFERENCE_SEEDS_DIR = DBT_PROJECT_DIR / "seeds" / "reference"


def read_seed(name: str) -> list[dict]:
    """One reference seed (mediarecon/dbt_project/seeds/reference/<name>.csv) as rows of text, for the simulators
    that must agree with the warehouse on reference data."""
    with (REFERENCE_SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
