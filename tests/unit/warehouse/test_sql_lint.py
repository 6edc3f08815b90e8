"""The dbt models follow the SQL style (sqlfluff, duckdb dialect, dbt templater; config in mediarecon/dbt_project/.sqlfluff)."""

import os
import subprocess
import sys
from pathlib import Path

from mediarecon.alerts.rules import shipped_rules
from mediarecon.paths import DBT_PROJECT_DIR


def toml_value(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def test_dbt_models_pass_sqlfluff(tmp_path):
    from mediarecon.ingest.storage import install_httpfs

    install_httpfs()  # the profile's S3 settings autoload it when dbt opens a connection
    env = {**os.environ, "MEDIARECON_BUILD_DB": str(tmp_path / "lint.duckdb"),
           "MEDIARECON_VALIDATED_DIR": str(tmp_path / "validated"),
           "MEDIARECON_QUARANTINE_DIR": str(tmp_path / "quarantine"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # the thresholds have no default in dbt_project.yml: the templater gets them from the shipped rules file
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.sqlfluff.templater.dbt.context]\n" + "".join(
        f"{k} = {toml_value(v)}\n" for k, v in shipped_rules().dbt_vars().items()), encoding="utf-8")
    p = subprocess.run([str(Path(sys.executable).parent / "sqlfluff"), "lint", "models", "--config", str(config)],
                       cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
