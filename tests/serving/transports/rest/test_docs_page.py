"""The --rest_api_docs page in a real headless browser: Debian's chromium, driven by Playwright.

The page must load with no console error, list the model's endpoints from its own document, and
its "Try it out" must send a predict to the server and show the answer. Skips, saying why, where
chromium or Playwright is missing (CI installs Debian's chromium; Playwright is a dev dependency
and drives that browser, it downloads none).
"""

import os
import shutil

import pytest
from tests.support.server_harness import free_port

pytestmark = pytest.mark.slow

BROWSER_TIMEOUT_MS = 60_000


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium); set CHROMIUM to use "
                    "another Chromium binary")
    return path


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: chromium refuses to run as root (CI) with its sandbox on.
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def docs_url(rest_models, start_model_server):
    server = start_model_server("--model_name=half_plus_two",
                                f"--model_base_path={rest_models['half_plus_two']}",
                                "--file_system_poll_wait_seconds=0",
                                f"--rest_api_port={free_port()}", "--rest_api_docs")
    return f"http://127.0.0.1:{server.server.rest.port}/docs"


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(BROWSER_TIMEOUT_MS)
    page.problems = []
    page.on("console", lambda message: message.type == "error"
            and page.problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: page.problems.append(
        f"request failed: {request.url} {request.failure}"))
    yield page
    context.close()


def test_the_docs_page_loads_without_errors_and_lists_the_models_endpoints(page, docs_url):
    page.goto(docs_url)
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/v1/models/half_plus_two:predict" in [path.replace("\u200b", "") for path in paths]
    assert "/v2/models/half_plus_two/infer" in [path.replace("\u200b", "") for path in paths]
    assert page.problems == []


def test_try_it_out_sends_a_predict_and_shows_the_answer(page, docs_url):
    page.goto(docs_url)
    operation = page.locator(".opblock-post").filter(
        has=page.locator(".opblock-summary-path[data-path='/v1/models/half_plus_two:predict']"))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    body = operation.locator("textarea.body-param__text")
    body.fill('{"instances": [1.0, 2.0]}')
    operation.get_by_role("button", name="Execute").click()
    answer = operation.locator(".live-responses-table .response-col_description .microlight")
    answer.first.wait_for()
    text = answer.first.inner_text()
    assert '"predictions"' in text
    assert "3" in text and "5" in text  # version 2 of half_plus_two: y = 2x + 1
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    assert status.inner_text().strip() == "200"
    assert page.problems == []
