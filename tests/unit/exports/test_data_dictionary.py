"""The data dictionary is generated again only when what it describes changed."""

from mediarecon.exports import data_dictionary

VARS = {"delivery_drop_pct": 50, "invoice_tolerance_eur": 1.0, "as_of_date": "2026-12-01"}


def test_the_fingerprint_follows_the_vars_that_shape_the_models_not_the_date():
    stamp = data_dictionary.fingerprint(VARS)
    assert data_dictionary.fingerprint({**VARS, "as_of_date": "2026-12-02"}) == stamp  # tomorrow: same docs
    assert data_dictionary.fingerprint({**VARS, "delivery_drop_pct": 40}) != stamp  # a threshold: new docs


def test_docs_are_current_only_with_their_stamp_and_their_manifest(tmp_path):
    stamp = data_dictionary.fingerprint(VARS)
    assert not data_dictionary.is_current(tmp_path, stamp)  # never generated
    (tmp_path / data_dictionary.FINGERPRINT).write_text(stamp, encoding="utf-8")
    assert not data_dictionary.is_current(tmp_path, stamp)  # the docs themselves are missing
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    assert data_dictionary.is_current(tmp_path, stamp)
    assert not data_dictionary.is_current(tmp_path, data_dictionary.fingerprint({**VARS, "delivery_drop_pct": 1}))
