"""Where the product's own files live (not the data: that is under MEDIARECON_HOME)."""

import csv
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
REFERENCE_SEEDS_DIR = DBT_PROJECT_DIR / "seeds" / "reference"


def read_seed(name: str) -> list[dict]:
    """One reference seed (dbt_project/seeds/reference/<name>.csv) as rows of text, for the simulators
    that must agree with the warehouse on reference data."""
    with (REFERENCE_SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
