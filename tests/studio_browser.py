"""The studio in a real headless Chromium (Debian's chromium and chromium-driver, driven by
python3-selenium): open the page through its token address, upload examples/sampling.wav, start a
2-step run, see a preview appear, wait for the result, check every picture loaded, play a reading
and hear time pass, switch A/B, download the zip and check it, find the run in the history, cancel
a second run, record 2 s from Chromium's fake microphone and run it. Screenshots of each state go to
BUILD/studio-screenshots (CI artefacts). Runs from the repository root."""
import glob
import os
import shutil
import tempfile
import time
import zipfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from studio_common import MODEL, SOUND, Checks, Server

check = Checks()
T = tempfile.mkdtemp(prefix="a2i2a-studio-browser-")
RUNS = os.path.join(T, "runs")
DOWNLOADS = os.path.join(T, "downloads")
SHOTS = os.path.join(os.environ.get("A2I2A_BUILD", "build"), "studio-screenshots")
os.makedirs(DOWNLOADS)
os.makedirs(SHOTS, exist_ok=True)
for old in glob.glob(os.path.join(SHOTS, "*.png")):
    os.remove(old)
os.environ["XDG_CACHE_HOME"] = os.path.join(T, "cache")

srv = Server(RUNS, "--model", MODEL, "--token", "browser-test-token")

opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + os.path.join(T, "profile"), "--use-fake-device-for-media-stream",
          "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required", "--window-size=1440,1000",
          "--lang=en-US", "--disable-dev-shm-usage"):
    opts.add_argument(a)
opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
opts.add_experimental_option("prefs", {"download.default_directory": DOWNLOADS, "download.prompt_for_download": False})
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": DOWNLOADS})
js = driver.execute_script


def wait(condition, timeout=120, what=""):
    """Polls a JavaScript expression until it is truthy; its value, or None after timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = js("return (" + condition + ");")
        if v:
            return v
        time.sleep(0.1)
    print("timed out waiting for " + (what or condition), flush=True)
    return None


def shot(name, height=None):
    if height:
        driver.set_window_size(1440, height)
        time.sleep(0.3)
    driver.save_screenshot(os.path.join(SHOTS, name))
    if height:
        driver.set_window_size(1440, 1000)


def set_field(key, value):
    js("const e = document.getElementById(arguments[0]); e.value = arguments[1];"
       "e.dispatchEvent(new Event('input', {bubbles: true}));", "f-" + key.replace(".", "-"), str(value))


def set_readings(names):
    js("for (const cb of document.querySelectorAll('#fields-readings input[data-reading]'))"
       "  if (cb.checked !== arguments[0].includes(cb.value)) cb.click();", names)


def run_dirs():
    return sorted(d for d in os.listdir(RUNS) if not d.startswith("."))


def job_card(state):
    return "document.querySelector('.job[data-state=%s]')" % state


try:
    # ---------------------------------------------------------------- the page, through the token address
    driver.get(srv.url)
    check(wait("document.body.dataset.ready === '1'", 30), "the page starts")
    check(driver.current_url.rstrip("/").endswith(str(srv.port)) and "token" not in driver.current_url,
          "the token address sets the cookie and leaves the address bar (%s)" % driver.current_url)
    check(wait("document.querySelector('#conn.live')", 10), "live updates connected")
    check(js("return document.querySelectorAll('#preset option').length") >= 3, "presets from the registry")
    check(js("return document.getElementById('f-i2i-steps').value") == "50", "the seed preset's 50 steps")
    check(js("return document.querySelectorAll('#fields-readings input[data-reading]').length") >= 8,
          "one chip per reading from the registry")
    shot("01-start.png")
    # the settings as the registry describes them: ranges, 0 shown as an empty "default", choices
    js("document.getElementById('more').open = true")
    db = js("const e = document.getElementById('f-a2i-db_range'); return [e.min, e.max, e.placeholder, e.value]")
    check(db == ["10", "200", "default", ""], "a2i.db_range: [10, 200], 0 shown as the default (%s)" % db)
    bits = js("return Array.from(document.getElementById('f-i2a-bits').options).map(o => o.value)")
    check(bits == ["0", "16", "24", "32"], "i2a.bits: the default, 16, 24 or 32 (%s)" % bits)
    samplers = js("return Array.from(document.getElementById('f-i2i-sampler').options).map(o => o.value || o.text)")
    check(samplers[:4] == ["default", "pndm", "ddim", "euler"] and "dpm++2m-karras" in samplers,
          "i2i.sampler: the default (null) and every sampler (%s)" % samplers)
    shot("01-settings.png", 2300)
    js("document.getElementById('more').open = false")

    # ---------------------------------------------------------------- upload and a 2-step run
    driver.find_element(By.ID, "file-input").send_keys(os.path.abspath(SOUND))
    check(wait("!document.getElementById('sound').classList.contains('hidden')", 30), "upload: the sound is shown")
    check("6.2 s" in js("return document.getElementById('sound-meta').textContent"), "upload: its duration")
    # a value the table refuses is caught in the page: said, and nothing sent
    set_field("a2i.db_range", 5)
    driver.find_element(By.ID, "start").click()
    check(wait("!document.getElementById('form-error').classList.contains('hidden')", 10) and
          "[10, 200]" in js("return document.getElementById('form-error').textContent") and
          js("return document.activeElement.id") == "f-a2i-db_range", "an out-of-range value is said and focused")
    time.sleep(0.5)
    check(js("return document.querySelectorAll('.job').length") == 0, "an out-of-range value is not sent")
    set_field("a2i.db_range", "")
    js("document.getElementById('more').open = false; document.getElementById('new-run').scrollTop = 0")
    set_field("i2i.steps", 2)
    driver.find_element(By.ID, "start").click()
    check(wait(job_card("running") + " || " + job_card("done"), 30), "the job is running")
    preview = wait("(() => { const i = document.querySelector('.job img.preview');"
                   " return i && i.complete && i.naturalWidth > 0 && i.naturalWidth; })()", 120, "a preview")
    check(preview == 50, "a preview of the painting appears, 1/8 of 400 wide (%s)" % preview)
    shot("02-running.png")
    run = wait("(() => { const r = document.getElementById('result');"
               " return !r.classList.contains('hidden') && r.querySelectorAll('.player').length >= 8 && r.dataset.run; })()",
               300, "the result")
    check(bool(run), "the result opens by itself when the run is done")
    check(run in run_dirs(), "the run is in --dir (%s)" % run)
    check(wait("Array.from(document.querySelectorAll('#result img, #jobs img')).every(i => i.complete && i.naturalWidth > 0)",
               30), "every picture of the result and the queue loaded")
    check(js("return Array.from(document.querySelectorAll('#result img')).map(i => i.naturalWidth).join(',')") == "400,400",
          "spectrogram and painting at full size")
    check(wait("Array.from(document.querySelectorAll('#result .player audio')).every(a => a.src.startsWith('blob:') &&"
               " a.readyState >= 1)", 60), "every reading's player is ready")
    lufs = js("return Array.from(document.querySelectorAll('#result .player .loud')).map(e => e.textContent)")
    check(all("LUFS" in t for t in lufs), "each reading shows its loudness (%s)" % lufs[:2])
    check(js("return document.querySelectorAll('#result .player[data-gain-db]').length") >= 8,
          "a gain per reading for the same loudness")

    # ---------------------------------------------------------------- play, and A/B
    js("document.querySelector('#result .player audio').play()")
    t = wait("(() => { const a = document.querySelector('#result .player audio'); return a.currentTime > 0.3 && a.currentTime; })()",
             20, "playback")
    check(bool(t), "a reading plays: currentTime advances (%s)" % t)
    players = "document.querySelectorAll('#result .player audio')"
    check(js("return %s[0].paused === false && %s[1].paused === true" % (players, players)), "A plays, B waits")
    time.sleep(0.4)
    shot("03-finished-run.png", 1500)
    driver.find_element(By.ID, "ab-switch").click()
    check(wait("%s[0].paused && !%s[1].paused" % (players, players), 10), "A/B: B plays, A stops")
    t0 = js("return %s[1].currentTime" % players)
    check(t0 > 0.2, "A/B: B goes on from A's moment (%.2f s)" % t0)
    time.sleep(0.6)
    check(js("return %s[1].currentTime" % players) > t0 + 0.2, "A/B: B's time advances")
    driver.find_element(By.TAG_NAME, "body").send_keys("x")
    check(wait("!%s[0].paused && %s[1].paused" % (players, players), 10), "A/B: the X key switches back")
    js("for (const a of %s) a.pause()" % players)

    # ---------------------------------------------------------------- the zip
    driver.find_element(By.ID, "download-zip").click()
    deadline = time.time() + 60
    zips = []
    while time.time() < deadline and not zips:
        zips = [z for z in glob.glob(os.path.join(DOWNLOADS, "*.zip"))]
        time.sleep(0.2)
    check(len(zips) == 1, "zip: downloaded (%s)" % os.listdir(DOWNLOADS))
    if zips:
        time.sleep(0.5)
        with zipfile.ZipFile(zips[0]) as z:
            names = sorted(z.namelist())
            want = sorted("%s/%s" % (run, n) for n in os.listdir(os.path.join(RUNS, run)))
            check(names == want, "zip: every file of the run (%s)" % names)
            check(all(z.read("%s/%s" % (run, n)) == open(os.path.join(RUNS, run, n), "rb").read()
                      for n in os.listdir(os.path.join(RUNS, run))), "zip: byte for byte")

    # ---------------------------------------------------------------- history
    check(wait("document.querySelector('#history .card[data-run=\"%s\"]')" % run, 20), "history: the run is there")
    search = driver.find_element(By.ID, "history-search")
    search.send_keys("no such prompt")
    check(wait("document.querySelectorAll('#history .card').length === 0", 10), "history: a search that finds nothing")
    search.clear()
    search.send_keys("1234")
    check(wait("document.querySelector('#history .card[data-run=\"%s\"]')" % run, 10), "history: found by its seed")
    js("document.getElementById('history-panel').scrollIntoView()")
    check(wait("Array.from(document.querySelectorAll('#history img')).every(i => i.complete && i.naturalWidth > 0)", 20),
          "history: its pictures loaded")
    shot("04-history.png")

    # ---------------------------------------------------------------- cancel a second run
    before = run_dirs()
    set_field("i2i.steps", 300)
    driver.find_element(By.ID, "start").click()
    check(wait("(() => { const c = " + job_card("running") + "; return c && /painting/.test(c.textContent); })()", 120),
          "second run: painting")
    shot("05-second-run.png")
    # a tab opened now catches up: the running job, its stage and its latest preview
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(srv.url.split("?")[0])
    check(wait("(() => { const c = " + job_card("running") + "; return c && /painting/.test(c.textContent); })()", 30),
          "a late tab catches up with the running job")
    check(wait("document.querySelectorAll('.job[data-state=done]').length >= 1", 10), "a late tab sees the finished one")
    driver.close()
    driver.switch_to.window(first)
    js(job_card("running") + ".querySelector('button.cancel').click()")
    check(wait(job_card("cancelled"), 60), "second run: cancelled")
    check(run_dirs() == before, "second run: nothing in --dir")
    shot("06-cancelled.png")

    # ---------------------------------------------------------------- record 2 s and run it
    js("document.getElementById('sound-clear').click()")
    driver.find_element(By.ID, "record").click()
    check(wait("document.getElementById('record').classList.contains('on')", 10), "recording")
    time.sleep(2.0)
    driver.find_element(By.ID, "record").click()
    check(wait("!document.getElementById('sound').classList.contains('hidden')", 30), "recording: uploaded")
    meta = js("return document.getElementById('sound-meta').textContent")
    secs = float(meta.split(" s")[0]) if " s" in meta else 0
    check(1.5 <= secs <= 3.5, "recording: about 2 s (%s)" % meta)
    check(js("return document.getElementById('sound-name').textContent").startswith("recording-"), "recording: named")
    set_field("i2i.steps", 2)
    set_readings(["red", "inverse"])
    driver.find_element(By.ID, "start").click()
    rec = wait("(() => { const r = document.getElementById('result');"
               " return r.dataset.run !== '%s' && r.querySelectorAll('.player').length === 2 && r.dataset.run; })()" % run,
               300, "the recording's run")
    check(bool(rec) and rec in run_dirs(), "recording: its run is done (%s)" % rec)
    check(wait("Array.from(document.querySelectorAll('#result img')).every(i => i.complete && i.naturalWidth > 0)", 30),
          "recording: its pictures loaded")
    shot("07-recorded-run.png")

    # run again with changes: the form takes the run's settings and its sound
    driver.find_element(By.ID, "run-again").click()
    check(js("return document.getElementById('f-i2i-steps').value") == "2", "run again: the run's steps in the form")
    check(js("return Array.from(document.querySelectorAll('#fields-readings input[data-reading]:checked'))"
             ".map(c => c.value).join(',')") == "red,inverse", "run again: the run's readings in the form")
    check(("the sound of run " + rec) in js("return document.getElementById('sound-meta').textContent"),
          "run again: the run's sound")
    # delete it through the page (after its confirmation)
    driver.find_element(By.ID, "delete-run").click()
    driver.switch_to.alert.accept()
    check(wait("document.getElementById('result').classList.contains('hidden')", 10), "delete: the result closes")
    check(wait("!document.querySelector('#history .card[data-run=\"%s\"]')" % rec, 10), "delete: gone from the history")
    check(rec not in run_dirs(), "delete: gone from --dir")

    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    check(not errors, "no errors in the browser's console (%s)" % errors[:3])
finally:
    driver.quit()
    rc = srv.stop()
check(rc == 0, "the server stops cleanly (%s)" % rc)
shutil.rmtree(T, ignore_errors=True)
check.done()
