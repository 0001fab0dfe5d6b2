"""A user triggers the DAG from the Airflow UI in a real (headless) Chromium.

Playwright drives Debian's /usr/bin/chromium (scripts/install-system.sh installs it; Playwright
never downloads a browser here): log in at the api-server's login page, open the DAG, open the
Trigger form, set the logical date, the drop and *Recommendations per user*, submit. The run,
found again through REST, must succeed with that conf and publish that many movies per user.
Screenshots of the filled form and of the finished run go to build/test-results/screenshots/
(`make screenshots` copies them to docs/screenshots/).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from movierec.data.layouts import LAYOUTS, Layout
from movierec_dev.generate import generate_drop
from tests.integration.airflow_fixtures import (
    DAG_ID,
    AirflowStack,
    airflow_stack,  # noqa: F401
)
from tests.integration.conftest import REPO

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
# As the machine's browser probe runs it: no sandbox as root, and no background traffic to
# Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "build" / "test-results" / "screenshots"  # copied to docs/ by `make screenshots`
FORM_PNG = SCREENSHOTS / "trigger-form.png"
RUN_PNG = SCREENSHOTS / "run-success.png"
MAX_PNG_BYTES = 300_000
# After the DAG's start_date, apart from the other tests' dates, before test_dag_on_real_stack's.
DS = "2026-01-11"
TOP_N = 5
N_RATINGS = 10_000
SPEC = LAYOUTS[Layout.ML_100K]


@dataclass(frozen=True)
class BrowserRun:
    drop: Path
    posted: dict  # the body the form POSTed to /api/v2/dags/{dag_id}/dagRuns
    answer: dict  # the api-server's answer to it
    run: dict  # the run, found through REST once it succeeded
    seconds: float


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Headless Chromium with a fresh profile, as Playwright's persistent context."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; run scripts/install-system.sh (apt-get install chromium)", pytrace=False)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 2400},  # the whole Trigger form, without scrolling
        )
        context.set_default_timeout(60_000)  # the UI is slow while Spark holds both cores
        try:
            yield context
        finally:
            context.close()


def log_in(page: Page, stack: AirflowStack, url: str) -> None:
    """Open ``url``; the api-server sends us to its login page first, then back."""
    page.goto(url)
    page.get_by_label("Username").fill(stack.username)
    page.get_by_label("Password").fill(stack.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url)


def set_logical_date(page: Page, ds: str) -> None:
    """Type a date (midnight UTC) into the form's date-time picker."""
    page.get_by_test_id("datetime-input").click()
    picker = page.locator("[data-scope=popover][data-part=content][data-state=open]")
    date = picker.get_by_placeholder("YYYY/MM/DD")
    date.fill(ds.replace("-", "/"))
    date.press("Enter")
    time_field = picker.locator("input").nth(1)
    time_field.fill("00:00")
    time_field.press("Enter")
    page.keyboard.press("Escape")
    shown = datetime.strptime(ds, "%Y-%m-%d").strftime("%b %d, %Y")  # e.g. "Jan 11, 2026"
    expect(page.get_by_test_id("datetime-input")).to_contain_text(shown)


def param_input(form: Locator, param: str) -> Locator:
    """The form's field of one DAG param, by the ``element_<param>`` name the UI gives it.

    Not by label: the label of a string param points at another id than its input's.
    """
    return form.locator(f"input[name='element_{param}']")


@pytest.fixture(scope="module")
def browser_run(
    airflow_stack: AirflowStack,  # noqa: F811
    browser: BrowserContext,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> BrowserRun:
    drop = generate_drop(tmp_path_factory.mktemp("browser") / "drop", Layout.ML_100K, n_ratings=N_RATINGS, seed=31)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    log_in(page, airflow_stack, f"{airflow_stack.base_url}/dags/{DAG_ID}")

    page.get_by_role("button", name="Trigger Dag").click()
    form = page.get_by_role("dialog").filter(has_text=f"Trigger Dag - {DAG_ID}")  # the dialog has no accessible name
    set_logical_date(page, DS)
    param_input(form, "source").fill(str(drop))
    top_n = param_input(form, "top_n")
    top_n.fill(str(TOP_N))
    form.get_by_text(f"Trigger Dag - {DAG_ID}").click()  # the number field commits its value on blur
    submit = form.get_by_test_id("trigger-dag-submit")
    expect(submit).to_be_enabled()
    form.screenshot(path=str(FORM_PNG))

    started = time.monotonic()
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/api/v2/dags/{DAG_ID}/dagRuns")
    ) as response:
        submit.click()
    assert response.value.ok, f"the form's POST answered {response.value.status}: {response.value.text()}"
    posted, answer = response.value.request.post_data_json, response.value.json()
    log.info("the form triggered %s with %s", answer["dag_run_id"], posted)

    run = airflow_stack.wait_for_run(DAG_ID, answer["dag_run_id"])
    seconds = time.monotonic() - started
    log.warning("browser-triggered run took %.0f s", seconds)

    run_page = f"{airflow_stack.base_url}/dags/{DAG_ID}/runs/{answer['dag_run_id']}"
    page.goto(run_page)
    expect(page.get_by_text("Success").first).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(RUN_PNG))
    return BrowserRun(drop=drop, posted=posted, answer=answer, run=run, seconds=seconds)


def test_the_form_posts_every_param_with_the_changed_ones(browser_run: BrowserRun, airflow_stack: AirflowStack) -> None:  # noqa: F811
    defaults = airflow_stack.dag_params(DAG_ID)

    assert browser_run.posted["conf"] == {**defaults, "source": str(browser_run.drop), "top_n": TOP_N}
    assert browser_run.posted["logical_date"].startswith(DS)


def test_the_run_found_through_rest_succeeded_with_that_conf(
    browser_run: BrowserRun,
    airflow_stack: AirflowStack,  # noqa: F811
) -> None:
    runs = airflow_stack.dag_runs(
        DAG_ID, run_type="manual", logical_date_gte=f"{DS}T00:00:00Z", logical_date_lte=f"{DS}T23:59:59Z"
    )

    assert [r["dag_run_id"] for r in runs] == [browser_run.answer["dag_run_id"]]
    run = runs[0]
    assert run["state"] == "success"
    assert run["triggering_user_name"] == airflow_stack.username
    assert run["conf"]["top_n"] == TOP_N
    assert run["conf"]["source"] == str(browser_run.drop)
    assert set(airflow_stack.task_states(DAG_ID, run["dag_run_id"]).values()) == {"success"}


def test_every_user_gets_the_chosen_number_of_recommendations(
    browser_run: BrowserRun,
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    tmp_path: Path,
) -> None:
    local = hdfs.download(f"{airflow_stack.warehouse}/recommendations/ds={DS}", tmp_path / "recs")
    per_user = pq.read_table(local).to_pandas().groupby("user_id").size()
    users = {int(line.split("\t", 1)[0]) for line in (browser_run.drop / SPEC.ratings_file).read_text().splitlines()}

    assert set(per_user.index) == users
    assert (per_user <= TOP_N).all() and (per_user == TOP_N).mean() >= 0.9, per_user[per_user != TOP_N].head()


def test_screenshots_are_small_pngs(browser_run: BrowserRun) -> None:
    for png in (FORM_PNG, RUN_PNG):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), png
        assert len(data) < MAX_PNG_BYTES, f"{png} is {len(data)} bytes"
