"""The Spark engine's pure parts: where each source is and its Spark schema, what is loaded back."""

import json

import pyarrow as pa
import pytest

from mediarecon.warehouse.spark import _arrow_to_spark, built_tables, source_tables


def test_every_source_is_found_at_its_validated_or_quarantine_folder():
    tables = source_tables({"MEDIARECON_VALIDATED_DIR": "/v", "MEDIARECON_QUARANTINE_DIR": "/q"})
    where = {(schema, table): str(folder) for schema, table, folder in tables}
    assert where[("ad_server", "ad_server")] == "/v/ad_server"
    assert where[("einvoice", "einvoice_lines")] == "/v/einvoice_lines"
    assert where[("einvoice_quarantine", "einvoice_rejections")] == "/q/einvoices"
    assert len(where) == len(tables) >= 14


@pytest.mark.parametrize("arrow,spark", [
    (pa.string(), "string"), (pa.large_string(), "string"), (pa.decimal128(18, 2), "decimal(18,2)"),
    (pa.timestamp("us", tz="UTC"), "timestamp"), (pa.timestamp("us"), "timestamp_ntz"), (pa.int64(), "bigint"),
    (pa.int32(), "int"), (pa.float64(), "double"), (pa.bool_(), "boolean"), (pa.date32(), "date"),
])
def test_parquet_types_become_the_spark_types_of_the_same_values(arrow, spark):
    assert _arrow_to_spark(arrow) == spark


def test_a_type_without_spark_equivalent_is_refused_by_name():
    with pytest.raises(TypeError, match="no Spark type for Parquet type"):
        _arrow_to_spark(pa.list_(pa.int64()))


def test_the_tables_built_tonight_are_loaded_marts_with_their_contract_types_as_duckdb_spells_them(tmp_path):
    node = lambda name, columns, **config: {"resource_type": "model", "schema": "main", "alias": name,
                                            "config": {"materialized": "table", **config}, "columns": columns}
    manifest = {"nodes": {
        "model.m.fct_x": node("fct_x", {
            "id": {"name": "id", "data_type": "string", "constraints": [{"type": "not_null"}]},
            "at": {"name": "at", "data_type": "timestamp", "constraints": []},
            "eur": {"name": "eur", "data_type": "decimal(18,2)"}}, contract={"enforced": True}),
        "model.m.int_y": node("int_y", {}),
        "model.m.stg_z": {**node("stg_z", {}), "config": {"materialized": "view"}},
        "seed.m.s": {"resource_type": "seed", "schema": "reference", "alias": "s", "config": {"materialized": "seed"},
                     "columns": {}},
        "model.m.int_excluded": node("int_excluded", {}),
        "model.m.int_failed": node("int_failed", {}),
    }}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    ran = [{"unique_id": u, "status": "success"} for u in ("model.m.fct_x", "model.m.int_y", "model.m.stg_z", "seed.m.s")]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": [
        *ran, {"unique_id": "model.m.int_failed", "status": "error"}]}), encoding="utf-8")
    assert built_tables(tmp_path) == [
        {"schema": "main", "name": "fct_x", "columns": [("id", "varchar", True), ("at", "timestamp with time zone", False),
                                                       ("eur", "decimal(18,2)", False)]},
        {"schema": "main", "name": "int_y", "columns": []},
        {"schema": "reference", "name": "s", "columns": []},
    ]
