"""The settings: one typed object read from the environment and a .env file, refusing a wrong value
with one line naming the variable."""

import pickle

import pytest

from mediarecon.settings import ChorusSettings, ReaderSettings, Settings, SettingsError, StorageSettings


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No MEDIARECON_* variable but the test credentials, and a working directory of our own (for .env)."""
    for name in list(__import__("os").environ):
        if name.startswith("MEDIARECON_") and not name.startswith("MEDIARECON_CHORUS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize("raw,expected", [("true", True), ("1", True), ("yes", True), ("false", False), ("0", False),
                                          ("no", False)])
def test_booleans_read_the_usual_spellings(clean_env, raw, expected):
    clean_env.setenv("MEDIARECON_CHORUS_DOWNLOAD_DOCUMENTS", raw)
    assert ChorusSettings.from_env().download_documents is expected


@pytest.mark.parametrize("name,raw,message", [
    ("MEDIARECON_CHORUS_ENABLED", "ture", "MEDIARECON_CHORUS_ENABLED='ture' is not true or false"),
    ("MEDIARECON_DBT_THREADS", "two", "MEDIARECON_DBT_THREADS='two' is not a whole number"),
    ("MEDIARECON_DBT_THREADS", "99", "MEDIARECON_DBT_THREADS='99' must be between 1 and 16"),
    ("MEDIARECON_INVOICE_TOLERANCE_EUR", "-1", "MEDIARECON_INVOICE_TOLERANCE_EUR='-1' must be at least 0"),
    ("MEDIARECON_AS_OF_DATE", "31/12/2025", "MEDIARECON_AS_OF_DATE='31/12/2025' is not a YYYY-MM-DD date"),
    ("MEDIARECON_QUERY_TIMEOUT_S", "soon", "MEDIARECON_QUERY_TIMEOUT_S='soon' is not a number"),
    ("MEDIARECON_LANDING_URL", "/data/landing",
     "MEDIARECON_LANDING_URL='/data/landing' must be an s3://bucket/prefix URL (or unset)"),
    ("MEDIARECON_ENGINE", "sparc", "MEDIARECON_ENGINE='sparc' must be 'duckdb' or 'spark'"),
    ("MEDIARECON_SPARK_MASTER", "yarn", "MEDIARECON_SPARK_MASTER='yarn' is not local[N], local[*] or spark://host:port"),
    ("MEDIARECON_SPARK_MASTER", "spark://", "MEDIARECON_SPARK_MASTER='spark://' is not local[N], local[*] or"
     " spark://host:port"),
])
def test_a_wrong_value_is_one_line_naming_the_variable(clean_env, name, raw, message):
    clean_env.setenv(name, raw)
    with pytest.raises(SettingsError) as e:
        Settings.from_env()
    assert str(e.value) == message


def test_dotenv_is_read_and_the_environment_wins(clean_env, tmp_path):
    (tmp_path / ".env").write_text("MEDIARECON_DBT_THREADS=3\nMEDIARECON_QUERY_MAX_ROWS=50\n"
                                   "MEDIARECON_S3_REGION=eu-west-3\nMEDIARECON_ALERT_URLS=\n", encoding="utf-8")
    clean_env.setenv("MEDIARECON_QUERY_MAX_ROWS", "70")
    s = Settings.from_env(tmp_path / "home")
    assert (s.dbt_threads, s.reader.max_rows, s.storage.region) == (3, 70, "eu-west-3")
    assert s.home.root == tmp_path / "home" and not s.alert_urls  # an empty value is unset


def test_home_option_wins_over_the_variable(clean_env, tmp_path):
    clean_env.setenv("MEDIARECON_HOME", str(tmp_path / "from-env"))
    assert Settings.from_env().home.root == tmp_path / "from-env"
    assert Settings.from_env(tmp_path / "given").home.root == tmp_path / "given"


def test_the_settings_never_print_nor_pickle_a_secret(clean_env):
    clean_env.setenv("MEDIARECON_ALERT_URLS", "mailtos://u:hunter2@smtp.example.org")
    s = Settings.from_env()
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump())
    assert s.alert_urls.reveal() == "mailtos://u:hunter2@smtp.example.org"
    with pytest.raises(TypeError, match="never serialised"):
        pickle.dumps(s)


def test_the_connector_gets_only_its_own_config(clean_env):
    clean_env.setenv("MEDIARECON_CHORUS_API_URL", "http://127.0.0.1:9/")
    clean_env.setenv("MEDIARECON_CHORUS_PAGE_SIZE", "7")
    config = ChorusSettings.from_env().client_config()
    assert (config.api_url, config.page_size) == ("http://127.0.0.1:9", 7)
    assert not hasattr(config, "sync_from") and not config.missing_credentials()


def test_defaults_match_env_example(clean_env):
    """.env.example documents the defaults: every value it sets is the one the settings use."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / ".env.example"
    lines = [line.split("=", 1) for line in example.read_text(encoding="utf-8").splitlines()
             if line.startswith("MEDIARECON_") and "=" in line]
    env = {k: v for k, v in lines if v}
    for k in env:
        clean_env.delenv(k, raising=False)
    default = Settings.from_env()
    for k, v in env.items():
        clean_env.setenv(k, v)
    assert Settings.from_env().model_dump() == default.model_dump()
    assert ReaderSettings() == ReaderSettings.from_env() and StorageSettings().landing_url is None
