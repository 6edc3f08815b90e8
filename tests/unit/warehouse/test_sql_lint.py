"""The dbt models follow the SQL style (sqlfluff, duckdb dialect, dbt templater; config in dbt_project/.sqlfluff)."""

import os
import subprocess
import sys
from pathlib import Path

from mediarecon.paths import DBT_PROJECT_DIR


def test_dbt_models_pass_sqlfluff(tmp_path):
    from mediarecon.ingest.storage import install_httpfs

    install_httpfs()  # the profile's S3 settings autoload it when dbt opens a connection
    env = {**os.environ, "MEDIARECON_BUILD_DB": str(tmp_path / "lint.duckdb"),
           "MEDIARECON_VALIDATED_DIR": str(tmp_path / "validated"),
           "MEDIARECON_QUARANTINE_DIR": str(tmp_path / "quarantine"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    p = subprocess.run([str(Path(sys.executable).parent / "sqlfluff"), "lint", "models"], cwd=DBT_PROJECT_DIR,
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
