"""The nightly reconciliation: ingest every source -> validate -> dbt build -> publish -> summary.

Thin on purpose: each step is a function of `mediarecon`; the flow orders them, retries the I/O ones,
and leaves a markdown artifact and a run record behind. Flows and tasks take plain parameters only (the
home folder, the run id, dbt vars): Prefect stores parameters, so the settings, which hold secrets, are
rebuilt from the environment inside each task.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections import Counter
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import ProcessPoolTaskRunner

from mediarecon import __version__, drills
from mediarecon.workers import beside_the_run
from mediarecon.alerts import process as alerts
from mediarecon.alerts.rules import channels_of, rules_of
from mediarecon.alerts.store import store_for
from mediarecon.exports import data_dictionary
from mediarecon.flows.sync_chorus_pro import chorus_sync_task
from mediarecon.ingest import chorus_pro, einvoices, parquet, storage, tabular
from mediarecon.ingest.sources import INBOX_FOLDERS, LANDED_ONLY, SOURCES
from mediarecon.settings import Settings
from mediarecon.state.manifest import Manifest
from mediarecon.state.runs import RunRecord, engine_versions, heal_interrupted, new_run_id, run_lock
from mediarecon.warehouse import build, publish, replay
from mediarecon.warehouse.reader import open_reader


PROGRESS_EVERY_S = 5.0  # a long phase says how far it is at most this often


def progress(what: str, unit: str):
    """A progress(done, total) callback for a long phase: `what: done/total unit` on the run's log, at most
    every PROGRESS_EVERY_S, so that a person watching knows it is moving (the end of each phase is logged
    anyway, with its counts)."""
    logger, last = get_run_logger(), time.monotonic()

    def report(done: int, total: int) -> None:
        nonlocal last
        if done < total and time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            logger.info("%s: %d/%d %s", what, done, total, unit)

    return report


@task(name="land", task_run_name="land-{source}", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def land_task(home: str, source: str, run_id: str) -> dict:
    """Land the source's new files; a sender bucket that cannot be reached is reported, not fatal."""
    settings = Settings.from_env(home)
    home = settings.home
    store, manifest = storage.landing_store(settings), Manifest(home.manifest)
    spec = SOURCES.get(source) or LANDED_ONLY[source]
    new = tabular.land_source(home, spec, store, manifest, run_id, settle_s=settings.inbox_settle_s)
    remote, unavailable = storage.s3_inbox(settings), None
    if remote:
        try:
            new += tabular.land_remote_source(spec, remote, store, manifest, run_id, home.runs / "scratch")
        except Exception as e:  # the night goes on without this bucket's new files; the next run lands them
            unavailable = f"S3 inbox {settings.storage.inbox_url}: {type(e).__name__}: {e}"
            get_run_logger().error("%s: not landed from %s", source, unavailable)
    get_run_logger().info("%s: %d new file(s) landed", source, new)
    return {"new": new, "unavailable": unavailable}


@task(name="validate", task_run_name="validate-{source}", cache_policy=NO_CACHE)
def validate_task(home: str, source: str, run_id: str) -> list[dict]:
    settings = Settings.from_env(home)
    home = settings.home
    logger = get_run_logger()
    outcomes = tabular.validate_source(home, SOURCES[source], Manifest(home.manifest),
                                      storage.landing_store(settings), run_id,
                                      progress=progress(f"{source}: validating", "file(s)"))
    for o in outcomes:
        if o.status == "rejected":
            logger.warning("%s: REJECTED %s", source, o.reason)
        elif o.status == "partial":
            logger.warning("%s: %s: %s", source, o.file_name, o.reason)
    logger.info("%s: %d file(s) validated, %d row(s) valid, %d row(s) quarantined", source, len(outcomes),
                sum(o.rows_valid for o in outcomes), sum(o.rows_quarantined for o in outcomes))
    return [{k: v for k, v in o.__dict__.items() if k != "quarantine"} for o in outcomes]


@task(name="parse-einvoices", task_run_name="parse-einvoices-{source}", cache_policy=NO_CACHE)
def parse_einvoices_task(home: str, source: str, run_id: str) -> list[dict]:
    settings = Settings.from_env(home)
    home = settings.home
    logger = get_run_logger()
    outcomes = einvoices.parse_landed(home, source, Manifest(home.manifest), storage.landing_store(settings), run_id,
                                      progress=progress(f"{source}: parsing", "file(s)"))
    for o in outcomes:
        if o.status != "validated":
            logger.warning("%s: %s: %s", source, o.file_name, o.reason)
    logger.info("%s: %d file(s), %d document(s) parsed, %d quarantined", source, len(outcomes),
                sum(o.rows_valid for o in outcomes), sum(o.rows_quarantined for o in outcomes))
    return [{k: v for k, v in o.__dict__.items() if k != "quarantine"} for o in outcomes]


@task(name="mirror-validated", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def mirror_validated_task(home: str) -> int:
    """With MEDIARECON_VALIDATED_URL set, the validated Parquet is copied there and dbt reads it there."""
    settings = Settings.from_env(home)
    mirror = storage.validated_mirror(settings)
    if not mirror:
        return 0
    pushed = mirror.push(settings.home.validated)
    get_run_logger().info("validated Parquet: %d new file(s) pushed to %s", pushed, mirror.url)
    return pushed


@task(name="dbt-build", cache_policy=NO_CACHE)
def dbt_build_task(home: str, dbt_vars: dict) -> None:
    """`dbt build` in-process (dbt's own runner: one Prefect task, not one per node, which halves the
    time); its log goes to runs/dbt/logs and the failing nodes into the error."""
    settings = Settings.from_env(home)
    build.prepare_build(settings.home)
    drills.checkpoint("dbt_build:start")
    storage.install_httpfs()  # the profile's S3 settings make DuckDB autoload it
    build.run_dbt(build.build_command(settings), work_dir=settings.home.runs / "dbt",
                  environment=build.build_environment(settings), dbt_vars=dbt_vars, log=get_run_logger().info,
                  progress=progress("dbt build", "node(s)"))


@task(name="data-dictionary", cache_policy=NO_CACHE)
def data_dictionary_task(home: str, dbt_vars: dict) -> dict:
    """dbt docs of tonight's build into exports/docs/, every mart column in English and French; kept as
    they are when neither the dbt project nor the vars changed."""
    settings = Settings.from_env(home)
    out, stamp = settings.home.exports / "docs", data_dictionary.fingerprint(dbt_vars)
    if data_dictionary.is_current(out, stamp):  # same models, same vars: the same docs
        get_run_logger().info("data dictionary unchanged (same dbt project and vars): kept")
        return {"kept": True}
    work_dir = settings.home.runs / "dbt" / "docs"
    build.reuse_parse(settings.home.runs / "dbt", work_dir)
    # the build compiled the models an instant ago (its manifest carries their SQL): the dictionary needs
    # their columns and descriptions, not a second compilation of every node
    build.run_dbt(["docs", "generate", "--no-compile"], work_dir=work_dir,
                  environment=build.build_environment(settings), dbt_vars=dbt_vars, log=get_run_logger().info)
    return data_dictionary.publish_docs(work_dir / "target", out, stamp, log=get_run_logger().warning)


def build_key(settings: Settings, dbt_vars: dict, inputs: dict) -> dict:
    """Everything but the landed files that makes a build what it is (publish.kept_warehouse)."""
    return {"engine": settings.engine, "dbt_vars": dbt_vars, "dbt_project_sha256": inputs["dbt_project_sha256"],
            "reference_sha256": inputs["reference_sha256"], "validated": storage.validated_location(settings),
            "code_version": __version__, "engine_versions": engine_versions()}


@task(name="publish", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def publish_task(home: str, built_from: dict | None = None) -> dict:
    result = publish.publish(Settings.from_env(home).home, built_from)
    get_run_logger().info("published %s (%s)", result.published,
                          ", ".join(f"{k}: {v} rows" for k, v in result.row_counts.items()))
    return {"published": str(result.published), "row_counts": result.row_counts}


@task(name="alerts", cache_policy=NO_CACHE)
def alerts_task(home: str, run_id: str, failure: str | None = None, report_path: str | None = None,
                unavailable: dict[str, str] | None = None) -> dict:
    """Raise, escalate and clear alerts from what this run found, and send what is pending."""
    settings = Settings.from_env(home)
    logger = get_run_logger()
    channels = channels_of(settings)
    result = alerts.process_run(settings.home, run_id, rules_of(settings), channels, settings.reader,
                                failure=failure, report_path=report_path, unavailable=unavailable,
                                log=logger.warning)
    if not channels:
        logger.info("alerts kept in %s, none sent: MEDIARECON_ALERT_URLS is empty", store_for(settings.home).path)
    logger.info("alerts: %(opened)d opened, %(escalated)d escalated, %(resolved)d resolved; %(sent)d message(s)"
                " sent, %(failed)d failed (kept for the next run)", result)
    return result


def findings_by_type(settings: Settings) -> dict[str, dict]:
    with open_reader(settings.home, settings.reader) as reader:
        rows = reader.execute(
            "select finding_type, count(*), sum(amount_at_stake_eur) from fct_findings"
            " group by finding_type order by finding_type"
        ).fetchall()
    # no amount (None) where a later rule computes it, e.g. moratory interest of late payments
    return {t: {"count": n, "amount_at_stake_eur": None if a is None else str(a)} for t, n, a in rows}


def summary_markdown(run_id: str, files: list[dict], findings: dict, home, unavailable: dict | None = None) -> str:
    lines = [f"# Nightly reconciliation `{run_id}`", "", *_files_markdown(files, unavailable),
             "", "## Findings in the published warehouse", "", "| finding type | count | € at stake |",
             "|---|---:|---:|"]
    lines += [f"| {t} | {v['count']} | {v['amount_at_stake_eur'] or '—'} |" for t, v in findings.items()]
    lines += ["", f"Warehouse: `{home.published_db}`"]
    return "\n".join(lines)


def failure_markdown(run_id: str, error: str, files: list[dict], unavailable: dict, home) -> str:
    """A failed run's artifact: why it stopped, what it had received, and that the warehouse is unchanged."""
    lines = [f"# Nightly reconciliation `{run_id}`: FAILED", "", f"**Error:** `{error}`", "",
             f"The published warehouse is unchanged (`{home.published_db}`); the files received stay landed"
             " and are processed by the next run.", "", *_files_markdown(files, unavailable)]
    return "\n".join(lines)


def _files_markdown(files: list[dict], unavailable: dict | None) -> list[str]:
    by_source = Counter()
    rows = Counter()
    quarantined = Counter()
    for f in files:
        by_source[(f["source"], f["status"])] += 1
        rows[f["source"]] += f["rows_valid"]
        quarantined[f["source"]] += f["rows_quarantined"]
    lines = ["## Files received this run", "",
             "| source | validated | partial | rejected | valid rows | quarantined rows |",
             "|---|---:|---:|---:|---:|---:|"]
    for source in [*SOURCES, *einvoices.DOCUMENT_SOURCES, "chorus_pro"]:
        lines.append(f"| {source} | {by_source[(source, 'validated')]} | {by_source[(source, 'partial')]} |"
                     f" {by_source[(source, 'rejected')]} | {rows[source]} | {quarantined[source]} |")
    if unavailable:
        lines += ["", "## Sources not reached tonight (published without them)", ""]
        lines += [f"- `{source}`: {reason}" for source, reason in sorted(unavailable.items())]
    rejected = [f for f in files if f["status"] == "rejected"]
    if rejected:
        lines += ["", "## Rejected files", ""]
        lines += [f"- `{f['source']}` `{f['file_name']}`: {f['reason']}" for f in rejected]
    return lines


def short_run_id() -> str | None:
    """The first 6 hex digits of the Prefect flow run's id: the end of its name and of the run id."""
    from prefect.runtime import flow_run

    return (flow_run.get_id() or "").replace("-", "")[:6] or None


def nightly_run_name() -> str:
    """`nightly-<Paris date>-<short id>`, as the Prefect UI lists the runs (the run record's id ends the same)."""
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    return f"nightly-{today}-{short_run_id() or 'local'}"


@flow(name="nightly_reconciliation", flow_run_name=nightly_run_name, log_prints=True,
      task_runner=ProcessPoolTaskRunner(max_workers=1, initializer=beside_the_run))  # for the submitted sync
def nightly_reconciliation(home: str | None = None) -> dict:
    """One reconciliation now over MEDIARECON_HOME (or `home`): returns the run summary."""
    settings = Settings.from_env(home)  # a bad setting or a missing credential stops the run here
    rules = rules_of(settings)  # so does a broken rules file, naming its line
    settings.home.ensure(INBOX_FOLDERS)
    home = str(settings.home.root)
    run_id = new_run_id(short_run_id())
    logger = get_run_logger()
    with run_lock(settings.home):
        for interrupted in heal_interrupted(settings.home):  # what a killed run left behind
            logger.warning("run %s was interrupted (its process died); recorded as such", interrupted)
        build.prepare_build(settings.home)  # and its half-built file, if any
        record = RunRecord(settings.home, run_id)
        timings = {}
        clock = time.perf_counter()

        def lap(name):
            nonlocal clock
            now = time.perf_counter()
            timings[name] = round(now - clock, 2)
            clock = now

        files, chorus = [], None
        unavailable: dict[str, str] = {}  # source -> why it could not be reached tonight
        # during the door, what the imports made (Prefect, Arrow, DuckDB, pandera) is left out of the collections
        # its allocations trigger, which would scan it each time (validating CM360 at scale 1: 7.8 % of the CPU
        # in collections, 3.3 % frozen)
        gc.freeze()
        try:
            # the sync first, in its own process: it waits on Chorus Pro while the door works
            sync = chorus_sync_task.submit(home, run_id) if settings.chorus.enabled else None
            if not sync:
                logger.info("Chorus Pro sync off (MEDIARECON_CHORUS_ENABLED is not true)")
            bucket_missed = []  # one sender bucket serves every folder: one entry (and one alert) for it
            for source in [*SOURCES, *LANDED_ONLY]:
                landed = land_task(home, source, run_id)
                if landed["unavailable"]:
                    bucket_missed.append(source)
                    unavailable.setdefault("s3_inbox", landed["unavailable"])
                drills.checkpoint(f"land:{source}")
            if bucket_missed:
                unavailable["s3_inbox"] += f"; not landed from it tonight: {', '.join(bucket_missed)}"
            lap("land_s")
            for source in SOURCES:
                files += validate_task(home, source, run_id)
            for source in einvoices.DOCUMENT_SOURCES:
                if source != chorus_pro.DOCUMENT_SOURCE:
                    files += parse_einvoices_task(home, source, run_id)
            lap("validate_s")
            if sync:
                try:  # its watermark moves only after a whole window: the next run catches up, no gap
                    chorus = sync.result()
                except Exception as e:
                    unavailable["chorus_pro"] = f"{type(e).__name__}: {e}"
                    logger.error("Chorus Pro not synced tonight; the night is published without it: %s", e)
            lap("chorus_pro_s")  # the wait for the sync once the door is done (its own time: chorus_pro.elapsed_s)
            files += parse_einvoices_task(home, chorus_pro.DOCUMENT_SOURCE, run_id)  # what the sync downloaded
            parquet.write_empty_tables(settings.home, {**tabular.validated_schemas(), **einvoices.SCHEMAS})
            mirror_validated_task(home)
            drills.checkpoint("validate:done")
            lap("chorus_documents_s")
            gc.unfreeze()
            # what this build consumes, recorded so that `mediarecon replay` can rebuild it
            dbt_vars = settings.dbt_vars(rules)
            inputs = replay.inputs_record(Manifest(settings.home.manifest), run_id)
            record.update(dbt_vars=dbt_vars, inputs=inputs, engine=settings.engine)
            key = build_key(settings, dbt_vars, inputs)
            kept = publish.kept_warehouse(settings.home, Manifest(settings.home.manifest), key, chorus_pro.REPEAT)
            if kept:
                logger.info("nothing new since run %s (same files, vars and dbt project): its published"
                            " warehouse is kept, not rebuilt", kept)
                record.update(warehouse_kept_from=kept)
                lap("dbt_build_s")
                lap("docs_s")
            else:
                dbt_build_task(home, dbt_vars)
                lap("dbt_build_s")
                try:
                    data_dictionary_task(home, dbt_vars)
                except Exception as e:  # the docs are a by-product: never a reason to hold the warehouse back
                    logger.error("data dictionary not generated: %s", e)
                lap("docs_s")
                publish_task(home, {"run_id": run_id, "key": key})
            findings = findings_by_type(settings)
            lap("publish_s")
        except Exception as e:
            gc.unfreeze()
            record.finish("failed", f"{type(e).__name__}: {e}")
            logger.error("run %s failed; the published warehouse is unchanged: %s", run_id, e)
            try:  # the failed run's own artifact: what it received before it stopped, and why it stopped
                create_markdown_artifact(
                    markdown=failure_markdown(run_id, f"{type(e).__name__}: {e}", files, unavailable, settings.home),
                    key="nightly-reconciliation-summary", description=f"Run {run_id} (failed)")
            except Exception as artifact_error:
                logger.error("the failure artifact could not be written: %s", artifact_error)
            try:
                alerts_task(home, run_id, failure=f"{type(e).__name__}: {e}")
            except Exception as alert_error:  # never hide the run's own error behind the alert's
                logger.error("the failure alert could not be recorded: %s", alert_error)
            raise
        chorus_files = [{**f, "source": "chorus_pro"} for f in chorus["files"]] if chorus else []
        markdown = summary_markdown(run_id, files + chorus_files, findings, settings.home, unavailable)
        create_markdown_artifact(markdown=markdown, key="nightly-reconciliation-summary",
                                 description=f"Run {run_id}")
        summary = {
            "run_id": run_id,
            "files_processed": len(files),
            "files_rejected": sum(f["status"] == "rejected" for f in files),
            "rows_valid": sum(f["rows_valid"] for f in files),
            "rows_quarantined": sum(f["rows_quarantined"] for f in files),
            "findings": findings,
            "warehouse": str(settings.home.published_db),
            "timings": timings,
            "chorus_pro": {k: v for k, v in chorus.items() if k != "files"} if chorus else None,
            "sources_unavailable": unavailable,
        }
        report = settings.home.runs / f"{run_id}.md"
        report.write_text(markdown + "\n", encoding="utf-8")
        summary["report"] = str(report)
        try:
            summary["alerts"] = alerts_task(home, run_id, unavailable=unavailable)
        except Exception as e:  # the warehouse is published; alerts left pending go out next run
            logger.error("alert step failed (the run's results stand): %s", e)
            summary["alerts"] = {"error": f"{type(e).__name__}: {e}"}
        lap("alerts_s")  # the report, the artifact and the alert step (charts, sending)
        record.finish("succeeded", None, summary=summary, markdown=markdown)
        logger.info("run %s succeeded: %d file(s), %d finding type(s)", run_id, len(files), len(findings))
        return summary
