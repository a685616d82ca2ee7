"""The static review site of a real run, in headless Chromium (Debian's chromium + chromium-driver, selenium):
one entry per recording, and a click on a segment seeks the page's player there."""

from __future__ import annotations

import shutil
import time

import pytest

from pipeline.summary import read_table
from tests.e2e_helpers import cli, copy_examples, write_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Chromium and chromedriver (apt install chromium chromium-driver)"),
]
FILES = ("ex1_two_speakers.wav", "ex4_speech_music_door.mp3", "ex3_sound_events.wav")


def headless_chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600",
                "--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    inputs = copy_examples(tmp / "in", FILES)
    (inputs / "broken.wav").write_bytes(b"not audio at all")  # an error row on the index too
    out = tmp / "out"
    cfg = write_config(tmp, **{"input.path": str(inputs), "output.path": str(out)})
    assert cli("run", str(cfg)).returncode == 0
    result = cli("review", str(out), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_the_index_lists_every_recording_and_a_segment_click_seeks_the_player(site):
    from selenium.webdriver.common.by import By

    recordings = read_table(site, "recordings").to_pandas()
    driver = headless_chromium()
    try:
        driver.get((site / "review" / "index.html").as_uri())
        entries = driver.find_elements(By.CSS_SELECTOR, "[data-recording-id]")
        assert sorted(e.get_attribute("data-recording-id") for e in entries) == sorted(recordings.recording_id)
        broken = recordings[recordings.uri.str.endswith("broken.wav")].recording_id.iloc[0]
        row = driver.find_element(By.CSS_SELECTOR, f'[data-recording-id="{broken}"]')
        assert "error" in row.text and "not audio" in row.text

        ok = recordings[recordings.uri.str.endswith("ex4_speech_music_door.mp3")].recording_id.iloc[0]
        driver.find_element(By.CSS_SELECTOR, f'[data-recording-id="{ok}"] a').click()
        segs = driver.find_elements(By.CSS_SELECTOR, ".seg")
        segments = read_table(site, "segments").to_pandas()
        assert len({s.get_attribute("data-segment-id") for s in segs}) == int((segments.recording_id == ok).sum())
        assert driver.execute_script("return document.querySelector('img').naturalWidth") > 0  # the waveform drew
        target = max(segs, key=lambda s: float(s.get_attribute("data-start")))
        start = float(target.get_attribute("data-start"))
        assert start > 1.0
        target.click()
        deadline = time.monotonic() + 10
        now = driver.execute_script("return document.getElementById('player').currentTime")
        while abs(now - start) > 1.5 and time.monotonic() < deadline:
            time.sleep(0.1)
            now = driver.execute_script("return document.getElementById('player').currentTime")
        assert start - 0.05 <= now <= start + 1.5, (now, start)
    finally:
        driver.quit()
