"""`mediarecon serve`: the deployments of prefect.yaml, run on this machine by a long-running process.

prefect.yaml is the one place the schedule is written; serve reads it, so the local schedule and a
production `prefect deploy` never disagree. Schedules need a real Prefect server (an ephemeral one
does not schedule): serve uses PREFECT_API_URL if set, else starts `prefect server start` on
127.0.0.1 with its database under <home>/prefect/ (`local_server.start_local_server`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

PREFECT_YAML = Path(__file__).with_name("prefect.yaml")  # shipped inside the package


def deployment_specs(path: Path = PREFECT_YAML) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)["deployments"]


def _load_flow(entrypoint: str):
    """mediarecon/flows/x.py:name -> the flow object, imported as a module of the package (Prefect needs its file)."""
    file, name = entrypoint.split(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def runner_deployments(home: str | None = None, path: Path = PREFECT_YAML) -> list:
    """RunnerDeployments for `prefect.serve`, built from prefect.yaml."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.schedules import Cron

    out = []
    for spec in deployment_specs(path):
        params = dict(spec.get("parameters") or {})
        if home is not None and "home" in params:
            params["home"] = home
        limit = spec.get("concurrency_limit")
        out.append(_load_flow(spec["entrypoint"]).to_deployment(
            name=spec["name"], description=spec.get("description"), parameters=params,
            schedules=[Cron(s["cron"], timezone=s["timezone"]) for s in spec.get("schedules") or []],
            concurrency_limit=ConcurrencyLimitConfig(**limit) if limit else None,
            version=spec.get("version"), tags=spec.get("tags") or [],
        ))
    return out
