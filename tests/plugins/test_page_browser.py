"""The page inside the Airflow UI: a real ``airflow api-server`` and headless Chromium.

The api-server runs on a free loopback port with the repository's plugins folder, on the
AIRFLOW_HOME and warehouse of ``dag_warehouse`` (two real DAG runs). The test logs in through
Airflow's own login form (SimpleAuthManager, password from the file Airflow generates), opens
the "Recommendations" entry of the navigation, looks a user up inside the embedded page and
saves screenshots to build/test-results/screenshots/ (`make screenshots` copies them to docs/).
The same server also answers the plugin's API with real JWTs from ``/auth/token``, and the tasks' extra links.

Chromium is Debian's (/usr/bin/chromium, scripts/install-system.sh); Playwright never
downloads a browser here.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.plugins.conftest import D1, REPO, TOP_N, DagWarehouse
from tests.ports import free_ports

pytestmark = pytest.mark.integration
CHROMIUM = os.environ.get("MOVIEREC_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO / "build" / "test-results" / "screenshots"  # `make screenshots` copies them to docs/
SCREENSHOT = SCREENSHOTS / "plugin-page.png"
USER = 1
START_TIMEOUT = 180


@dataclass(frozen=True)
class ApiServer:
    base_url: str
    home: Path

    @property
    def password(self) -> str:
        return json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]

    def call(self, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, object]:
        """(status, decoded JSON body) of one request; errors are returned, not raised."""
        headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def token(self) -> str:
        status, body = self.call("/auth/token", body={"username": "admin", "password": self.password})
        assert status == 201 or status == 200, body
        return body["access_token"]


@pytest.fixture(scope="module")
def api_server(dag_warehouse: DagWarehouse) -> Iterator[ApiServer]:
    """``airflow api-server`` on a free loopback port, with this repository's plugins."""
    (port,) = free_ports(1)
    env = {
        **dag_warehouse.env,
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),  # generated, as scripts/stack does
        "AIRFLOW__API__WORKERS": "1",
    }
    log = (dag_warehouse.home / "api-server.log").open("w")
    proc = subprocess.Popen(
        ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = ApiServer(f"http://127.0.0.1:{port}", dag_warehouse.home)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(server):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"airflow api-server did not start (exit {proc.poll()}); see {log.name}", pytrace=False)
            time.sleep(2)
        yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group (start_new_session)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _healthy(server: ApiServer) -> bool:
    try:
        return server.call("/api/v2/monitor/health")[0] == 200
    except (urllib.error.URLError, ConnectionError, OSError):  # not listening yet
        return False


def test_the_plugin_api_behind_airflow_auth(api_server):
    assert api_server.call("/movierec/api/metrics") == (401, {"detail": "Not authenticated"})
    assert api_server.call("/movierec/api/metrics", token="forged")[0] == 403
    token = api_server.token()
    status, body = api_server.call("/movierec/api/metrics", token)
    assert status == 200 and body["latest_ds"] == D1 and len(body["runs"]) == 2
    status, body = api_server.call(f"/movierec/api/recommendations/{USER}", token)
    assert status == 200 and len(body["recommendations"]) == TOP_N
    status, body = api_server.call("/movierec/api/recommendations/987654", token)
    assert status == 404 and "unknown user" in body["detail"]
    status, body = api_server.call(f"/movierec/api/recommendations/{2**63}", token)
    assert status == 422 and body["detail"].startswith(f"user_id={2**63} is out of range")
    # No Swagger UI (it would load from a CDN); the OpenAPI document, its paths under the mount point.
    assert api_server.call("/movierec/docs", token)[0] == 404
    status, body = api_server.call("/movierec/openapi.json", token)
    assert status == 200 and body["servers"] == [{"url": "/movierec"}] and "/api/metrics" in body["paths"]


def test_the_plugin_is_registered_with_its_nav_entry(api_server):
    status, body = api_server.call("/api/v2/plugins", api_server.token())
    plugin = next(p for p in body["plugins"] if p["name"] == "movierec")
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/movierec"
    view = plugin["external_views"][0]
    assert (view["name"], view["href"], view["url_route"]) == ("Recommendations", "/movierec/ui", "movierec")


def test_extra_links_of_the_tasks(api_server, dag_warehouse):
    token = api_server.token()
    _, runs = api_server.call("/api/v2/dags/movielens_recommendations/dagRuns?limit=10", token)
    run_id = next(r["dag_run_id"] for r in runs["dag_runs"] if r["logical_date"].startswith(D1))
    base = f"/api/v2/dags/movielens_recommendations/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
    status, links = api_server.call(f"{base}/publish/links", token)
    assert status == 200, links
    folder = dag_warehouse.warehouse.as_uri() + f"/recommendations/ds={D1}"
    # local[*]: no Spark UI outlives the job, so that link is empty (the UI disables it).
    assert links["extra_links"] == {"Output folder": folder, "Spark UI": None}
    _, links = api_server.call(f"{base}/evaluate/links", token)
    assert links["extra_links"]["Output folder"] == dag_warehouse.warehouse.as_uri() + f"/metrics/ds={D1}"


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found; run scripts/install-system.sh (Debian package chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


def logged_in_page(api_server: ApiServer, browser):
    """A new page, logged in as a person does: Airflow's own login form."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(api_server.base_url + "/")
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(api_server.password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "login" not in url)
    return page


def test_the_page_in_the_ui_looks_a_user_up(api_server, browser):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    page = logged_in_page(api_server, browser)
    # The nav entry opens the page embedded in the UI. On a loaded machine the UI may still be
    # rendering (and swallow the click) right after login, so the click is retried. Only the
    # sidebar's entry: the dashboard's asset events and runs of movielens_recommendations are
    # links whose names contain the word too, once they have loaded.
    nav_entry = page.get_by_test_id("nav-sidebar").get_by_role("link", name="Recommendations", exact=True)
    for attempt in range(3):
        nav_entry.click()
        try:
            page.wait_for_url("**/plugin/movierec", timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    frame = page.frame_locator("iframe")
    expect(frame.locator("#warehouse")).to_contain_text("2 evaluated run(s)")
    expect(frame.locator("#chart-rmse polyline")).to_have_count(1)
    expect(frame.locator("#chart-ndcg circle")).to_have_count(2)
    expect(frame.locator("#chart-coverage circle")).to_have_count(2)  # beyond-accuracy metrics across runs
    expect(frame.locator("#runs tbody tr")).to_have_count(2)
    frame.locator("#user-id").fill(str(USER))
    frame.locator("#lookup-button").click()
    expect(frame.locator("#recs tbody tr")).to_have_count(TOP_N)
    # Every recommendation says why (a liked movie cited, or the general reason).
    expect(frame.locator("#recs tbody td.reason")).to_have_count(TOP_N)
    assert all(text.strip() for text in frame.locator("#recs tbody td.reason").all_inner_texts())
    expect(frame.locator("#result-ds")).to_have_text(f"(ds={D1})")
    assert frame.locator("#rated tbody tr").count() > 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size < 300_000
    # An unknown user: the API's message, shown in the page.
    frame.locator("#user-id").fill("987654")
    frame.locator("#lookup-button").click()
    expect(frame.locator("#lookup-error")).to_contain_text("HTTP 404: user 987654 has no recommendations")
    page.close()


def test_a_failed_lookup_clears_the_previous_users_lists(api_server, browser):
    from playwright.sync_api import expect

    page = logged_in_page(api_server, browser)
    page.goto(api_server.base_url + "/movierec/ui")  # the page the UI embeds, with the same session cookie
    page.locator("#user-id").fill(str(USER))
    page.locator("#lookup-button").click()
    expect(page.locator("#recs tbody tr")).to_have_count(TOP_N)
    expect(page.locator("#result-user")).to_have_text(str(USER))
    page.locator("#user-id").fill("987654")
    page.locator("#lookup-button").click()
    expect(page.locator("#lookup-error")).to_contain_text("HTTP 404: user 987654 has no recommendations")
    # Under the error, nothing of user 1 is left: no rows, no user or date, the lists hidden.
    expect(page.locator("#recs tbody tr")).to_have_count(0)
    expect(page.locator("#rated tbody tr")).to_have_count(0)
    expect(page.locator("#result-user")).to_have_text("")
    expect(page.locator("#result-ds")).to_have_text("")
    expect(page.locator("#lookup-result")).to_be_hidden()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "plugin-lookup-error.png"), full_page=False)
    # The next lookup that succeeds shows that user's lists again.
    page.locator("#user-id").fill(str(USER))
    page.locator("#lookup-button").click()
    expect(page.locator("#recs tbody tr")).to_have_count(TOP_N)
    expect(page.locator("#lookup-result")).to_be_visible()
    expect(page.locator("#lookup-error")).to_have_text("")
    page.close()
