"""Where the product's own files live (not the data: that is under MEDIARECON_HOME)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
REFERENCE_SEEDS_DIR = DBT_PROJECT_DIR / "seeds" / "reference"
