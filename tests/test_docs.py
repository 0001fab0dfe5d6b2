"""The user documentation stays documentation: no development history, no machine paths, no dead links.

README.md and ``docs/*.md`` are read by users, so they describe what the project is and does now.
History (what was tried, in which order, under which ticket) belongs in CHANGELOG.md, the one file
allowed to name it. Paths of one machine (its home, scratch or workspace folders) mean nothing on
another, and neither do paths that climb out of the checkout; paths inside the project's containers
(``/opt/airflow``) and example locations of the reader's own storage (``/data/ml-25m.zip``,
``hdfs://nn:8020/drops/{ds}/``) are fine. Every relative link, image included, must reach a file of
the repository, and its ``#anchor`` a heading of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted((REPO / "docs").glob("*.md"))
USER_DOCS = [REPO / "README.md", *DOCS]
ALL_MARKDOWN = [*USER_DOCS, REPO / "CHANGELOG.md"]
README_MAX_LINES = 150

# The project's own history: work sessions and ticket numbers ("issue #<n>", "#<n> item <m>", "#<n>.<m>").
HISTORY = [
    re.compile(r"\b[Ss]ession \d"),
    re.compile(r"\b[Ii]ssues? #\d"),
    re.compile(r"#\d+ item\b|\bitem \d+ of #\d"),
    re.compile(r"(?<![\w/&#])#\d+(?:\.\d+[a-z]?)?\b"),
    re.compile(r"\btmp-all\d"),
]
# Absolute paths into a machine's home, scratch or workspace folders, and paths that climb out of
# the checkout (``../shared/...``: commands run from the repository root).
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|home|root|Users|tmp|mnt|scratch)/|(?<![\w./])\.\./")
# Pages a script writes, whose template still breaks a rule: fix the script, then drop the entry.
PENDING: dict[str, str] = {}  # page -> why it fails for now (a known failure, shown as xfail)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


def _checked(paths: list[Path]) -> list:
    """``paths`` as parameters, a page in :data:`PENDING` marked as a known failure with its reason."""
    return [
        pytest.param(p, id=_name(p), marks=pytest.mark.xfail(reason=PENDING[_name(p)], strict=False))
        if _name(p) in PENDING
        else pytest.param(p, id=_name(p))
        for p in paths
    ]


def _lines(path: Path) -> list[tuple[int, str]]:
    return list(enumerate(path.read_text(encoding="utf-8").splitlines(), 1))


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


@pytest.mark.parametrize("path", _checked(USER_DOCS))
def test_user_docs_tell_no_development_history(path):
    found = [
        f"{_name(path)}:{number}: {pattern.search(line).group(0)!r} in {line.strip()[:100]!r}"
        for number, line in _lines(path)
        for pattern in HISTORY
        if pattern.search(line)
    ]
    assert not found, "history belongs in CHANGELOG.md; say what is true now:\n" + "\n".join(found)


@pytest.mark.parametrize("path", _checked(ALL_MARKDOWN))
def test_docs_name_no_path_of_one_machine(path):
    found = [
        f"{_name(path)}:{number}: {line.strip()[:120]!r}"
        for number, line in _lines(path)
        if MACHINE_PATH.search(LINK.sub("", line))
    ]
    assert not found, "use a path relative to the repository, or a placeholder such as <warehouse>:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize("path", ALL_MARKDOWN, ids=_name)
def test_relative_links_reach_a_file_and_a_heading(path):
    broken = []
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("mailto:"):
            continue  # http(s), file: and other absolute URLs
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no file {linked.relative_to(REPO) if linked.is_relative_to(REPO) else linked}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {_name(linked)}")
    assert not broken, f"{_name(path)} links to what does not exist:\n" + "\n".join(broken)


def test_the_readme_gets_a_reader_running_in_a_page():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines, more than {README_MAX_LINES}: move the details to docs/"
    )


def test_make_help_lists_every_target():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = {t for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for t in line.split()} - {"help"}
    help_recipe = re.search(r"^help:.*?\n((?:\t.*\n)+)", makefile, re.M)
    assert help_recipe, "the Makefile has no help target"
    listed = set(re.findall(r"make ([a-z][\w-]*)", help_recipe.group(1)))
    assert targets <= listed, f"make help does not list: {sorted(targets - listed)}"
