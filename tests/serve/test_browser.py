"""The demo in a real browser: Debian's chromium, headless, driven by Playwright. Upload an image, send a question,
wait for the streamed answer, check that the reasoning section is collapsible (closed when done, opens on a click,
closes again), and save a screenshot as a test artifact (`$MMREASON_TEST_ARTIFACTS`, default `test-artifacts/`).

Skipped where chromium or Playwright is missing, unless `MMREASON_REQUIRE_BROWSER=1` (CI sets it: there a missing
browser is a failure, not a skip)."""

import os
import re
import shutil
from pathlib import Path

import pytest

from mmreason.data import procedural

CHROMIUM = os.environ.get("MMREASON_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("MMREASON_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
pytestmark = pytest.mark.slow


def _require_browser():
    found = {"chromium": shutil.which(CHROMIUM) is not None, **{m: _has(m) for m in ("playwright", "gradio")}}
    missing = [what for what, ok in found.items() if not ok]
    if missing and os.environ.get("MMREASON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MMREASON_REQUIRE_BROWSER=1 but missing: {missing}")
    if missing:
        pytest.skip(f"missing: {missing}")


def _has(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module")
def app_url(quickstart_run):
    _require_browser()
    from mmreason.generation import TransformersBackend
    from mmreason.serve.app import build_demo
    from mmreason.serve.models import ServedModel

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    folder, _ = quickstart_run
    model = folder / "mmreason-quickstart" / "models" / "sft"
    served = ServedModel(TransformersBackend(str(model), batch_size=1, system_prompt=None, device="cpu"),
                         "the reduced quickstart's SFT model")  # fmt: skip
    demo = build_demo(served)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True, ssr_mode=False)
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_upload_ask_stream_collapse_and_screenshot(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    problem = procedural.generate(1, seed=99, level="easy", families=["clock"])[0]
    image = tmp_path / "clock.png"
    problem.image.save(image)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(app_url)
            page.locator("input[type=file]").first.set_input_files(str(image))
            page.locator("textarea").first.fill(procedural.prompt_of(problem, "text"))
            page.keyboard.press("Enter")
            bot = page.locator("[data-testid=bot]")
            expect(bot.get_by_text(re.compile(r"^Final answer: \S"))).to_have_count(1, timeout=60_000)
            group = bot.locator(".thought-group").first
            title = group.locator(".title").first
            expect(title).to_contain_text("Reasoning")
            steps = group.get_by_text(re.compile(r"hour hand"))
            expect(steps).to_have_count(0)  # closed once the answer is done
            title.click()
            expect(steps.first).to_be_visible()
            page.wait_for_timeout(800)  # the section's opening animation
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "demo-space.png"), full_page=True)
            title.click()
            expect(steps).to_have_count(0)
        finally:
            browser.close()
    assert (ARTIFACTS / "demo-space.png").stat().st_size > 10_000
