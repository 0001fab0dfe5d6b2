"""The stack's one UI-triggered run: a user fills the Airflow Trigger form in a real (headless) Chromium.

Playwright drives Debian's /usr/bin/chromium (scripts/install-system.sh installs it; Playwright
never downloads a browser here): log in at the api-server's login page, open the DAG, open the
Trigger form, set the logical date, the drop and *Recommendations per user*, submit; the scheduler
runs the DAG on the stack's HDFS and Spark standalone master. Screenshots of the filled form and
of the finished run go to build/test-results/screenshots/ (`make screenshots` copies them to
docs/screenshots/).

A whole DAG run costs minutes on two cores, so this one run (the ``form_run`` session fixture in
conftest.py) is what the browser, REST, stack-output and asset tests all read: test_browser_trigger
(the form), test_ui_trigger_rest (the REST API and the wiring to the stack), test_dag_on_real_stack
(every stage's output on HDFS) and test_assets_on_real_stack (the consumer DAG its publish
triggers). The example consumer is switched on before the run, as a platform would have it: only
an unpaused DAG gets a run queued by an asset event.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

from movierec.data.layouts import LAYOUTS, Layout
from movierec_dev.generate import generate_drop
from tests.integration.airflow_fixtures import DAG_ID, AirflowStack
from tests.integration.conftest import REPO

log = logging.getLogger(__name__)

CONSUMER = "movielens_consumer"  # dags/movielens_consumer.py, scheduled on the recommendations asset

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
# After the DAG's start_date, apart from the other tests' dates; the latest date published into the
# stack's own warehouse when test_dag_on_real_stack reads it (_LATEST only moves forward).
DS = "2026-01-11"
TOP_N = 5  # the one param changed from the form's defaults (10), besides the drop
N_RATINGS = 10_000
SEED = 31
SPEC = LAYOUTS[Layout.ML_100K]


@dataclass(frozen=True)
class FormRun:
    drop: Path
    posted: dict  # the body the form POSTed to /api/v2/dags/{dag_id}/dagRuns
    answer: dict  # the api-server's answer to it
    run: dict  # the run, found through REST once it succeeded
    seconds: float
    window_ms: tuple[int, int]  # wall clock (epoch ms) from just before the POST to the run's end


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


def trigger_through_the_form(stack: AirflowStack, tmp_path_factory: pytest.TempPathFactory) -> FormRun:
    """Fill and submit the Trigger form, wait for the run to succeed, screenshot the form and the run."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; run scripts/install-system.sh (apt-get install chromium)", pytrace=False)
    stack.wait_until_parsed(CONSUMER)
    stack.unpause(CONSUMER)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 2400},  # the whole Trigger form, without scrolling
        )
        browser.set_default_timeout(60_000)  # the UI is slow while Spark holds both cores
        try:
            return _trigger(stack, browser, tmp_path_factory)
        finally:
            browser.close()


def _trigger(airflow_stack: AirflowStack, browser: BrowserContext, tmp_path_factory: pytest.TempPathFactory) -> FormRun:
    drop = generate_drop(tmp_path_factory.mktemp("browser") / "drop", Layout.ML_100K, n_ratings=N_RATINGS, seed=SEED)
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

    started, started_ms = time.monotonic(), int(time.time() * 1000)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/api/v2/dags/{DAG_ID}/dagRuns")
    ) as response:
        submit.click()
    assert response.value.ok, f"the form's POST answered {response.value.status}: {response.value.text()}"
    posted, answer = response.value.request.post_data_json, response.value.json()
    log.info("the form triggered %s with %s", answer["dag_run_id"], posted)

    run = airflow_stack.wait_for_run(DAG_ID, answer["dag_run_id"])
    seconds, window = time.monotonic() - started, (started_ms, int(time.time() * 1000))
    log.warning("browser-triggered run took %.0f s", seconds)

    run_page = f"{airflow_stack.base_url}/dags/{DAG_ID}/runs/{answer['dag_run_id']}"
    page.goto(run_page)
    expect(page.get_by_text("Success").first).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(RUN_PNG))
    return FormRun(drop=drop, posted=posted, answer=answer, run=run, seconds=seconds, window_ms=window)
