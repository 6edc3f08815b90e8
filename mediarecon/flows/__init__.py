"""Prefect flows. Importing this package keeps Prefect on this machine: no telemetry leaves it, and the
local temporary server gets time to start."""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
