"""The fingerprint of a drop and a run's settings: equal exactly when nothing the lists depend on changed."""

from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from movierec.data.fingerprint import Fingerprint, drop_digest, settings_digest

FILES = [
    {"name": "u.data", "role": "ratings", "bytes": 10, "sha256": "aa"},
    {"name": "u.item", "role": "movies", "bytes": 5, "sha256": "bb"},
]
SETTINGS = {"rank": 50, "reg_param": 0.12, "tune": False, "max_rmse": 1.0}


def test_drop_digest_ignores_order_and_sees_content():
    assert drop_digest(FILES) == drop_digest(list(reversed(FILES)))
    changed = [FILES[0], {**FILES[1], "sha256": "bc"}]
    assert drop_digest(changed) != drop_digest(FILES)


def test_settings_digest_ignores_key_order_and_int_versus_float():
    assert settings_digest(SETTINGS) == settings_digest(dict(reversed(list(SETTINGS.items()))))
    assert settings_digest({**SETTINGS, "max_rmse": 1}) == settings_digest(SETTINGS)
    assert settings_digest({**SETTINGS, "tune": True}) != settings_digest(SETTINGS)
    with pytest.raises(PipelineError, match="cannot hash"):
        settings_digest({"rank": [1, 2]})


def test_differences_name_what_changed():
    base = Fingerprint.of(FILES, SETTINGS)
    assert base.differences(Fingerprint.from_json(base.to_json())) == []
    assert Fingerprint.of(FILES, {**SETTINGS, "rank": 20}).differences(base) == ["settings rank"]
    new_drop = Fingerprint.of([FILES[0], {**FILES[1], "sha256": "cc"}], SETTINGS)
    assert new_drop.differences(base) == ["the drop's content"]
    assert "no fingerprint" in base.differences(None)[0]
