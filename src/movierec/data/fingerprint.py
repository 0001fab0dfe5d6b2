"""What a run's output depends on: the drop's content and the run's settings, as one comparable record. Pure functions.

Ingest writes it next to the drop (``raw/movielens/ds=<ds>/_fingerprint.json``); publish copies it
into the published copy of the model (``published/ds=<ds>/<id>/fingerprint.json``). When the next
run's fingerprint equals the published one, everything downstream would recompute the same lists:
the run skips fit, evaluate and publish (``force`` recomputes anyway).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from movierec.core.errors import PipelineError


def _canonical(value: Any) -> Any:
    """Numbers as floats (``1`` and ``1.0`` are the same setting), booleans and strings as they are."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    raise PipelineError(f"setting value {value!r} is not a number, boolean or string; the fingerprint cannot hash it")


def settings_digest(settings: Mapping[str, Any]) -> str:
    """SHA-256 of the settings, independent of key order and of ``1`` versus ``1.0``."""
    canonical = {str(k): _canonical(v) for k, v in settings.items()}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def drop_digest(files: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 over the drop's files (their role and sha256, as in ingest's manifest), in a fixed order."""
    parts = sorted(f"{f['role']}:{f['sha256']}" for f in files)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """The drop and the settings a run's output is a function of.

    Attributes:
        drop_sha256: :func:`drop_digest` of the drop's files.
        settings_sha256: :func:`settings_digest` of the run's settings.
        settings: the settings themselves, so a difference can be named.
    """

    drop_sha256: str
    settings_sha256: str
    settings: dict

    @classmethod
    def of(cls, files: Iterable[Mapping[str, Any]], settings: Mapping[str, Any]) -> Fingerprint:
        return cls(drop_digest(files), settings_digest(settings), dict(sorted(settings.items())))

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Fingerprint:
        return cls(record["drop_sha256"], record["settings_sha256"], dict(record.get("settings", {})))

    def with_settings(self, settings: Mapping[str, Any]) -> Fingerprint:
        """The same drop with other settings (hash recomputed)."""
        return Fingerprint(self.drop_sha256, settings_digest(settings), dict(sorted(settings.items())))

    def to_json(self) -> dict:
        return asdict(self)

    def differences(self, other: Fingerprint | None) -> list[str]:
        """What changed from ``other`` (the published run's), in words; empty when nothing did."""
        if other is None:
            return ["the published model has no fingerprint (published before fingerprints, or nothing published)"]
        found = []
        if self.drop_sha256 != other.drop_sha256:
            found.append("the drop's content")
        if self.settings_sha256 != other.settings_sha256:
            names = sorted(
                k
                for k in {*self.settings, *other.settings}
                if _maybe(self.settings.get(k)) != _maybe(other.settings.get(k))
            )
            found.append(f"settings {', '.join(names) or '(their hash)'}")
        return found


def _maybe(value: Any) -> Any:
    try:
        return _canonical(value)
    except PipelineError:
        return value
