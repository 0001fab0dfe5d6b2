"""docs/configuration.md is what the settings models say, word for word."""

from __future__ import annotations

from scripts.configuration_doc import OUT, render


def test_the_configuration_page_is_generated_from_the_models():
    assert OUT.read_text() == render(), "run `make docs` (python -m scripts.configuration_doc)"
