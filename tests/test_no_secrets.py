"""No credentials in the repository: every tracked file is scanned for keys, tokens and literal passwords.

Secrets come from the environment or are generated at first start (scripts/stack/airflow.sh,
docker-compose.yml's ``${VAR:?}``); files that hold them are git-ignored. This keeps it so.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),
    "Fernet key": re.compile(r"(?i)fernet_key\s*[:=]\s*['\"]?[A-Za-z0-9_-]{43}="),
    # A quoted literal after password/secret_key in code, or an unquoted one in env/YAML files;
    # never ${VAR}, a <placeholder> or an expression.
    "password literal in code": re.compile(
        r"(?i)(?<![a-z])(?:password|passwd|secret_key|jwt_secret)(?![a-z])['\"]?\s*[:=]\s*(['\"])(?![$<{])"
        r"[^'\"\s]{6,}\1"
    ),
    "literal password in env or YAML": re.compile(
        r"(?m)^\s*[A-Z_]*(?:PASSWORD|PASSWD|SECRET_KEY|JWT_SECRET)\s*[:=]\s*(?![$<{'\"\s])\S{6,}"
    ),
}
# Files that must never be tracked: they hold generated or user-set secrets.
SECRET_FILES = re.compile(
    r"(^|/)(\.env|secrets\.env|simple_auth_manager_passwords\.json\.generated|.*\.keytab|"
    r"id_rsa|id_ed25519|.*\.pem)$"
)


def tracked_files() -> list[str]:
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"git ls-files failed in {REPO}: {proc.stderr.decode()[:500]}", pytrace=False)
    return [name for name in proc.stdout.decode().split("\0") if name]


def test_no_file_that_holds_secrets_is_tracked():
    assert [name for name in tracked_files() if SECRET_FILES.search(name)] == []


def test_no_key_token_or_literal_password_in_tracked_files():
    found = []
    for name in tracked_files():
        path = REPO / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {kind}: {match.group(0)[:60]}")
    assert found == [], "\n".join(found)


def test_the_scan_catches_what_it_is_meant_to():
    # Built from pieces, so that this file itself passes the scan above.
    fake = "hunter2" * 2
    examples = {
        "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",
        "AWS access key id": "key = AKIA" + "ABCDEFGHIJKLMNOP",
        "password literal in code": "POSTGRES_" + 'PASSWORD: "' + fake + '"',
        "literal password in env or YAML": "AIRFLOW__API__SECRET_" + "KEY=" + fake,
        "Fernet key": "AIRFLOW__CORE__FERNET_KEY=" + "A" * 43 + "=",
    }
    for kind, text in examples.items():
        assert PATTERNS[kind].search(text), kind
    for harmless in (
        "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it in .env}",
        "password = os.environ['X']",
        "password: <generated>",
        'PGPASSWORD="$PG_PASSWORD" psql',
        '{"password": self.password}',
    ):
        assert not PATTERNS["password literal in code"].search(harmless), harmless
        assert not PATTERNS["literal password in env or YAML"].search(harmless), harmless
