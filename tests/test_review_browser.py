"""End to end in a real browser: `archocr review` on the sample scans' run, Debian's Chromium driven by
Selenium through Debian's chromedriver (nothing downloaded), decisions made with the keys, a reload, the
export. Screenshots go into the test's folder (and docs/review.png with ARCHOCR_UPDATE_DOCS=1)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, SCANS, headless_chromium_flags

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not CHROMEDRIVER.exists(),
    reason="needs Debian's chromium and chromium-driver (make setup installs them)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(sample_run, tmp_path_factory):
    """The sample run, aligned with the samples' transcripts, served by `archocr review`."""
    base = tmp_path_factory.mktemp("review-browser")
    folder = base / "run"
    shutil.copytree(sample_run, folder)
    transcript = base / "transcripts.txt"
    transcript.write_text(
        "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((SCANS / "transcripts").glob("*"))),
        encoding="utf-8",
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "review", str(folder), "--transcript", str(transcript),
         "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise AssertionError(f"archocr review did not start: {server.stdout.read()}") from None
            time.sleep(0.3)
    yield folder, transcript, url, base
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(served):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*headless_chromium_flags(served[3] / "chromium-profile"), "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout: float = 20):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (StaleElementReferenceException, NoSuchElementException)  # the page is being replaced
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(lambda d: condition(d))


def _current(driver) -> dict[str, str]:
    from selenium.common.exceptions import NoSuchElementException

    # Read in one script, in the page itself: element by element, the page could replace the element
    # between two reads (chromedriver then reports a node no longer in the document).
    shown = driver.execute_script(
        """const el = document.getElementById("discrepancy");
        if (!el) return null;
        const out = {};
        for (const k of ["id", "version", "status", "ocr", "transcript"]) {
            out[k] = el.getAttribute("data-" + k);
        }
        return out;"""
    )
    if shown is None:
        raise NoSuchElementException("no discrepancy shown")
    return shown


def _press(driver, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(keys).perform()


def test_review_in_the_browser(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    folder, transcript, url, base = served
    driver = browser
    driver.get(url)
    name = driver.find_element(By.ID, "reviewer")
    name.send_keys("Анна Иванова", Keys.TAB)
    driver.find_element(By.TAG_NAME, "body").click()
    _press(driver, "j")  # into the queue, riskiest first
    _wait(driver, lambda d: d.find_elements(By.ID, "discrepancy"))
    driver.save_screenshot(str(base / "detail.png"))
    decided: dict[str, tuple[str, dict[str, str]]] = {}
    typed_readings = {"e": "ИСПРАВЛЕНО", "u": "печать неразборчива"}
    for key in ("t", "o", "e", "u", "b"):
        typed = typed_readings.get(key, "")
        shown = _current(driver)
        _press(driver, key)
        if typed:
            field = "edit" if key == "e" else "comment"
            # The focused element's id read in the page: it may be replaced while the form opens.
            _wait(driver, lambda d, f=field: d.execute_script("return document.activeElement.id") == f)
            active = driver.switch_to.active_element
            active.send_keys(Keys.CONTROL, "a")
            active.send_keys(typed, Keys.ENTER)
        _wait(
            driver, lambda d, s=shown: d.find_elements(By.ID, "discrepancy") and _current(d)["id"] != s["id"]
        )
        decided[shown["id"]] = (key, shown)
    # z undoes the last decision (the b) and shows that discrepancy again, open.
    last_id = list(decided)[-1]
    _press(driver, "z")
    _wait(driver, lambda d: _current(d)["id"] == last_id and _current(d)["status"] == "open")
    decided.pop(last_id)
    # j / k move along the queue.
    here = _current(driver)["id"]
    _press(driver, "k")
    _wait(driver, lambda d: _current(d)["id"] != here)
    _press(driver, "j")
    _wait(driver, lambda d: _current(d)["id"] == here)
    # A reload (a new page load from the server) shows every decision still there.
    for did, (key, _shown) in decided.items():
        driver.get(f"{url}d/{did}")
        assert _current(driver)["status"] == key
        assert "Анна Иванова" in driver.find_element(By.CSS_SELECTOR, ".where").text
    driver.get(url)
    rows = {
        r.get_attribute("data-id"): r.get_attribute("class")
        for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-id]")
    }
    for did, (key, _) in decided.items():
        assert rows[did] == f"status-{key}"
    driver.save_screenshot(str(base / "queue.png"))
    # The page view: boxes coloured by state; clicking one opens it.
    t_id, (_, t_shown) = next((i, v) for i, v in decided.items() if v[0] == "t")
    page_link = None
    driver.get(f"{url}d/{t_id}")
    page_link = driver.find_element(By.CSS_SELECTOR, ".where a").get_attribute("href")
    driver.get(page_link)
    box = driver.find_element(By.CSS_SELECTOR, f'a.pagebox[data-id="{t_id}"] rect')
    assert "status-t" in box.get_attribute("class")
    driver.save_screenshot(str(base / "page.png"))
    driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", box)
    _wait(driver, lambda d: d.find_elements(By.ID, "discrepancy") and _current(d)["id"] == t_id)
    # Another reviewer decides the discrepancy shown here first: this browser's decision is a conflict.
    driver.get(url)
    open_id = next(
        r.get_attribute("data-id")
        for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-id]")
        if r.get_attribute("class") == "status-open"
    )
    driver.get(f"{url}d/{open_id}")
    import httpx2

    with httpx2.Client(base_url=url.rstrip("/")) as other:
        other.get("/")
        version = other.get(f"/api/d/{open_id}").json()["version"]
        response = other.post(
            "/api/decide",
            json={"id": open_id, "action": "b", "version": version, "reviewer": "Борис"},
            headers={"X-CSRF-Token": other.cookies["archocr_csrf"], "Origin": url.rstrip("/")},
        )
        assert response.status_code == 200
    _press(driver, "o")
    message = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#message.conflict"))
    assert "changed by Борис" in message.text
    driver.save_screenshot(str(base / "conflict.png"))
    # `/` goes to the filter.
    _press(driver, "/")
    assert driver.switch_to.active_element.get_attribute("id") == "filter-document"
    # The export button writes the reviewed text and the errata.
    driver.get(f"{url}d/{t_id}")
    driver.save_screenshot(str(base / "review.png"))
    if os.environ.get("ARCHOCR_UPDATE_DOCS"):  # refresh the README's screenshot on request only
        shutil.copy(base / "review.png", ROOT / "docs" / "review.png")
    driver.find_element(By.ID, "export").click()
    _wait(driver, lambda d: "exported" in d.find_element(By.ID, "message").text, timeout=60)
    runs = json.loads((folder / "discrepancies.json").read_text(encoding="utf-8"))
    assert runs["discrepancies"]
    by_id = {d["id"]: d for d in _with_ids(folder)}
    t_d = by_id[t_id]
    reviewed = (folder / t_d["document"] / f"{t_d['page']:04d}.reviewed.txt").read_text(encoding="utf-8")
    original = (folder / t_d["document"] / f"{t_d['page']:04d}.txt").read_text(encoding="utf-8")
    # The page's text with every t and e decided on it (the queue may put both on one page), and no other.
    expected = original
    changes = []
    for did, (key, _shown) in decided.items():
        d = by_id[did]
        if key in ("t", "e") and (d["document"], d["page"]) == (t_d["document"], t_d["page"]):
            new = d["transcript_text"] if key == "t" else typed_readings["e"]
            changes.append((d["ocr_start"], d["ocr_end"], new))
    for start, end, new in sorted(changes, reverse=True):
        expected = expected[:start] + new + expected[end:]
    assert reviewed == expected
    e_id = next(i for i, v in decided.items() if v[0] == "e")
    e_d = next(d for d in _with_ids(folder) if d["id"] == e_id)
    e_text = (folder / e_d["document"] / f"{e_d['page']:04d}.reviewed.txt").read_text(encoding="utf-8")
    assert "ИСПРАВЛЕНО" in e_text
    o_ids = {i for i, v in decided.items() if v[0] == "o"}
    errata = list(csv.DictReader((folder / "errata.csv").open(encoding="utf-8")))
    assert {r["discrepancy"] for r in errata} == o_ids
    text = transcript.read_text(encoding="utf-8")
    for r in errata:
        assert text[int(r["transcript_start"]) : int(r["transcript_end"])] == r["transcript_text"]
        assert r["reviewer"] == "Анна Иванова"
    history = [json.loads(x) for x in (folder / "decisions.jsonl").open(encoding="utf-8")]
    assert [h["action"] for h in history] == ["t", "o", "e", "u", "b", "undo", "b"]
    assert history[-1]["reviewer"] == "Борис" and len({h["reviewer"] for h in history}) == 2
    assert next(h for h in history if h["action"] == "u")["comment"] == "печать неразборчива"


def _with_ids(folder: Path) -> list[dict]:
    from pipeline.review.run import Run

    return list(Run(folder).discrepancies.values())
