"""What the product loads and depends on: the demo tools stay out of it."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_line_loads_no_demo_tool_nor_prefect_nor_dbt():
    code = ("import sys, mediarecon.cli; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in"
            " {'simulators', 'moto', 'holidays', 'prefect', 'dbt'} or m.startswith('mediarecon.flows'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


def test_moto_and_holidays_are_demo_tools_not_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = lambda deps: {d.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip() for d in deps}
    assert not names(project["dependencies"]) & {"moto", "holidays"}
    assert names(project["optional-dependencies"]["demo"]) == {"moto", "holidays"}


def test_without_the_demo_tools_generate_says_how_to_install_them(tmp_path):
    code = ("import sys; sys.modules['holidays'] = None\n"
            f"from simulators.cli import app; app(['generate', '--out', {str(tmp_path / 'x')!r}])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2
    assert "`mediarecon-demo generate` needs the demo tools (holidays is not installed): pip install 'mediarecon[demo]'" \
        in p.stderr


def test_the_wheel_carries_the_product_files(tmp_path):
    """A nightly runs from an installed package: the dbt project, seeds, rules, queries and schedule are in it."""
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("mediarecon-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {str(p.relative_to(ROOT)) for d in ("mediarecon/dbt_project/models", "mediarecon/dbt_project/seeds",
                                                  "mediarecon/dbt_project/macros", "mediarecon/dbt_project/tests")
               for p in (ROOT / d).rglob("*") if p.is_file()}
    assert len(shipped) > 100 and shipped <= names
    assert {"mediarecon/dbt_project/dbt_project.yml", "mediarecon/dbt_project/profiles.yml",
            "mediarecon/alerts/alert_rules.yml", "mediarecon/flows/prefect.yaml",
            "mediarecon/exports/audit_queries/late_payments.sql"} <= names
    assert not [n for n in names if "/target/" in n or n.endswith(".duckdb")]
