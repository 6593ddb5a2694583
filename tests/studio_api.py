"""a2i2a serve through its HTTP API, on a free loopback port with the tiny model and 2-step runs:
upload, a run watched through its events, outputs byte-identical to `a2i2a run` with the same
settings, history, zip, run again, replay, delete, a queue of three, cancel (running and queued),
bad and oversized uploads, bad settings, tokens, foreign Host/Origin, path traversal, clients that
vanish mid-upload and mid-stream, and SIGTERM during a run. Runs from the repository root."""
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
import zipfile

from studio_common import MODEL, SMALL, SMALL_CLI, SOUND, A2I2A, Checks, Events, Server, sha256

check = Checks()
T = tempfile.mkdtemp(prefix="a2i2a-studio-api-")
RUNS = os.path.join(T, "runs")
env_cache = {"XDG_CACHE_HOME": os.path.join(T, "cache")}
os.environ.update(env_cache)


def run_dirs():
    return sorted(d for d in os.listdir(RUNS) if not d.startswith("."))


def studio_tmp_empty():
    return os.listdir(os.path.join(RUNS, ".studio", "tmp")) == []


def write_wav(path, seconds, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))


srv = Server(RUNS, "--model", MODEL, "--max-upload-mb", "2", "--max-seconds", "30")
if True:
    # ---------------------------------------------------------------- info and registries
    st, info = srv.json("GET", "/api/info")
    check(st == 200 and info["program"] == "a2i2a" and info["token_required"] is False, "info: %s %s" % (st, info))
    check(info["limits"]["max_upload_bytes"] == 2e6 and info["limits"]["max_upload_seconds"] == 30, "info: limits")
    st, reg = srv.json("GET", "/api/registry")
    check(st == 200, "registry: %s" % st)
    srv_vocoders = reg.get("vocoders")
    lists = reg["lists"]
    check({"styles", "colormaps", "samplers", "spacings", "readings", "presets", "prompts", "params"} <= set(lists),
          "registry: every list (%s)" % sorted(lists))
    presets = {p["name"]: p for p in lists["presets"]}
    check({"seed", "riffusion", "turbo"} <= set(presets), "registry: the presets %s" % sorted(presets))
    check(presets["seed"]["details"]["i2i.steps"] == 50 and presets["turbo"]["details"]["i2i.steps"] == 2 and
          presets["riffusion"]["details"]["clips.seconds"] == 5.11, "registry: the presets' values (docs/chain.md)")
    params = {p["name"]: p["details"] for p in lists["params"]}
    check({"preset", "i2i.prompt", "i2i.strength", "i2i.steps", "i2i.sampler", "i2i.seed", "i2a.readings", "a2i.style",
           "model.name", "sheet"} <= set(params), "registry: the chain's parameters by run.json key")
    # the ranges and choices `a2i2a run` enforces (docs/cli.md), as the table gives them
    check(params["a2i.db_range"]["type"] == "number" and params["a2i.db_range"]["min"] == 10 and
          params["a2i.db_range"]["max"] == 200 and params["a2i.db_range"]["zero"] is True,
          "registry: a2i.db_range in [10, 200] or 0 (%s)" % params["a2i.db_range"])
    check(params["i2i.strength"]["min"] == 0 and params["i2i.strength"]["max"] == 1 and
          params["i2i.strength"]["zero"] is False, "registry: i2i.strength in [0, 1]")
    check(params["i2i.sampler"]["type"] == "choice" and params["i2i.sampler"]["choices"] == "samplers" and
          params["i2a.readings"]["multiple"] is True and params["i2a.readings"]["choices"] == "readings",
          "registry: choices name their list")
    check(all(d.get("choices") is None or d["choices"] in lists for d in params.values()),
          "registry: every list a parameter names is served")
    check([r["name"] for r in lists["readings"]][:3] == ["red", "rgb-mean", "chirp"], "registry: readings")
    check(reg["models"][0] == MODEL and reg["model"] == MODEL, "registry: the server's model first")

    # ---------------------------------------------------------------- upload
    st, up = srv.upload(SOUND, "my sound.wav")
    check(st == 201, "upload: %s %s" % (st, up))
    check(up["id"] == sha256(SOUND)[:16] + ".wav", "upload: id from the bytes' SHA-256 (%s)" % up["id"])
    check(up["name"] == "my sound.wav" and abs(up["seconds"] - 6.2219) < 1e-3 and up["channels"] == 1,
          "upload: what it is (%s)" % up)
    stored = os.path.join(RUNS, ".studio", "uploads", up["id"])
    check(os.path.isfile(stored) and sha256(stored) == sha256(SOUND), "upload: stored byte for byte")
    st, _, data = srv.request("GET", "/api/uploads/" + up["id"])
    check(st == 200 and data == open(SOUND, "rb").read(), "upload: served back")

    # ---------------------------------------------------------------- a run, watched
    events = Events(srv)
    check(events.status == 200, "events: %s" % events.status)
    seen = []

    def watch():
        for ev, data in events:
            seen.append((ev, data))
            if ev == "job" and data["state"] in ("done", "failed", "cancelled"):
                return

    watcher = threading.Thread(target=watch)
    watcher.start()
    st, job = srv.submit(up["id"], SMALL)
    check(st == 202 and job["state"] in ("queued", "running"), "submit: %s %s" % (st, job))
    done = srv.wait(job["id"])
    watcher.join(60)
    events.close()
    check(done["state"] == "done", "run: done (%s)" % done.get("error"))
    jobs = [d for e, d in seen if e == "job" and d["id"] == job["id"]]
    states = [d["state"] for d in jobs]
    check("running" in states and states[-1] == "done", "events: running then done (%s)" % states)
    fractions = [d["fraction"] for d in jobs if d["state"] == "running"]
    check(fractions == sorted(fractions) and fractions[-1] > 0.9, "events: progress never goes back")
    # a tab gets the latest state at most five times a second: steps may be folded together,
    # and the job's stage list keeps every stage it went through with the furthest step
    final = jobs[-1].get("stages", [])
    names = [st["name"] for st in final]
    painting = [st for st in final if st["name"] == "painting"]
    order = [n for n in names if n in ("spectrogram", "painting", "readings")]
    check(order == ["spectrogram", "painting", "readings"] and len(painting) == 1
          and 1 <= painting[0]["total"] <= SMALL["i2i.steps"]
          and painting[0]["step"] == painting[0]["total"]
          and all(st["seconds"] >= 0 for st in final),
          "events: stages in order, the painting's steps k of n (%s)" % final)
    previews = [d["preview"] for d in jobs if d["preview"]]
    check(len(previews) >= 1 and previews[-1]["width"] == 12 and previews[-1]["height"] == 8,
          "events: a preview at 1/8 size (%s)" % (previews[-1:] or None))
    if previews:
        st, hdr, png = srv.request("GET", previews[-1]["url"])
        check(st == 200 and png[:8] == b"\x89PNG\r\n\x1a\n" and png[16:24] == bytes([0, 0, 0, 12, 0, 0, 0, 8]),
              "preview.png: a 12x8 PNG")
    # a tab that connects later gets the job's latest state and preview at once
    late = Events(srv)
    caught = None
    for ev, data in late:
        if ev == "job" and data["id"] == job["id"]:
            caught = data
            break
    late.close()
    check(caught and caught["state"] == "done" and caught["preview"] and caught["preview"]["step"] == 2,
          "events: a late tab catches up (%s)" % (caught and caught["state"]))
    run_id = done["run"]
    check(run_dirs() == [run_id], "run: one folder in --dir named by the run (%s)" % run_dirs())
    check(studio_tmp_empty(), "run: nothing left in .studio/tmp")

    # the same settings through the command line: the same bytes, every file
    cli_out = os.path.join(T, "cli")
    rc = subprocess.call([A2I2A, "run", stored, "-o", cli_out, "--model", MODEL] + SMALL_CLI,
                         stderr=subprocess.DEVNULL)
    check(rc == 0, "a2i2a run: exit %d" % rc)
    ours = sorted(os.listdir(os.path.join(RUNS, run_id)))
    check(ours == sorted(os.listdir(cli_out)) and "run.json" in ours and "art.png" in ours,
          "the same files as a2i2a run (%s)" % ours)
    for name in ours:
        a, b = os.path.join(RUNS, run_id, name), os.path.join(cli_out, name)
        check(os.path.exists(b) and sha256(a) == sha256(b), "%s: the same SHA-256 as a2i2a run" % name)
        st, _, data = srv.request("GET", "/api/runs/%s/files/%s" % (run_id, name))
        check(st == 200 and data == open(a, "rb").read(), "%s: served as written" % name)

    # ---------------------------------------------------------------- history, detail, zip
    shutil.copytree(cli_out, os.path.join(RUNS, "from-the-cli"))
    st, runs = srv.json("GET", "/api/runs")
    ids = [r["id"] for r in runs["runs"]]
    check(st == 200 and set(ids) == {run_id, "from-the-cli"}, "history: the studio's and the CLI's run (%s)" % ids)
    st, found = srv.json("GET", "/api/runs?q=1234")
    check(len(found["runs"]) == 2, "history: search by seed")
    st, found = srv.json("GET", "/api/runs?q=JELLYFISH")
    check(len(found["runs"]) == 2, "history: search by prompt, any case")
    st, found = srv.json("GET", "/api/runs?q=nothing-like-this")
    check(found["runs"] == [] and found["total"] == 0, "history: search that finds nothing")
    st, detail = srv.json("GET", "/api/runs/" + run_id)
    check(st == 200 and detail["settings"]["i2i"]["steps"] == 2 and detail["upload"] == up["id"],
          "detail: settings and the upload it started from")
    check(detail["params"]["i2i.steps"] == 2 and detail["params"]["i2a.readings"] == "red,inverse",
          "detail: the form's parameters")
    sounds = {s["reading"]: s for s in detail["sounds"]}
    check(set(sounds) == {"red", "inverse"}, "detail: one sound per reading")
    for name, s in sounds.items():
        check(isinstance(s["lufs"], (int, float)) and -70 < s["lufs"] < 0 and s["seconds"] > 0,
              "detail: %s loudness %s LUFS" % (name, s.get("lufs")))
    st, hdr, data = srv.request("GET", "/api/runs/%s/zip" % run_id)
    check(st == 200 and hdr.get("Content-Type") == "application/zip", "zip: %s" % st)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = sorted(z.namelist())
        check(names == sorted("%s/%s" % (run_id, n) for n in ours), "zip: every file (%s)" % names)
        for n in ours:
            check(z.read("%s/%s" % (run_id, n)) == open(os.path.join(RUNS, run_id, n), "rb").read(),
                  "zip: %s byte for byte" % n)
    check(studio_tmp_empty(), "zip: no temporary file left")

    # ---------------------------------------------------------------- run again, replay, delete
    params = dict(detail["params"])
    params["i2i.seed"] = 7
    st, again = srv.json("POST", "/api/jobs", {"input": {"run": run_id}, "params": params})
    check(st == 202, "run again: %s %s" % (st, again))
    again = srv.wait(again["id"])
    check(again["state"] == "done", "run again: done (%s)" % again.get("error"))
    st, d2 = srv.json("GET", "/api/runs/" + again["run"])
    check(d2["settings"]["i2i"]["seed"] == 7 and d2["settings"]["input"]["path"] == detail["settings"]["input"]["path"],
          "run again: the same sound, the new seed")
    st, rep = srv.json("POST", "/api/jobs", {"replay": run_id})
    check(st == 202 and rep["kind"] == "replay", "replay: %s" % st)
    rep = srv.wait(rep["id"])
    check(rep["state"] == "done", "replay: done (%s)" % rep.get("error"))
    for name in ours:
        if name != "run.json":
            check(sha256(os.path.join(RUNS, rep["run"], name)) == sha256(os.path.join(RUNS, run_id, name)),
                  "replay: %s identical" % name)
    st, _ = srv.json("DELETE", "/api/runs/" + rep["run"])
    check(st == 200 and rep["run"] not in run_dirs(), "delete: the folder is gone")
    check(srv.json("GET", "/api/runs/" + rep["run"])[0] == 404, "delete: then not found")
    check(studio_tmp_empty(), "delete: nothing left in .studio/tmp")

    # ---------------------------------------------------------------- a queue of three
    before = set(run_dirs())
    queued = []
    for seed in (11, 12, 13):
        st, j = srv.submit(up["id"], dict(SMALL, **{"i2i.seed": seed}))
        check(st == 202, "queue: submit %d" % seed)
        queued.append(j)
    # one snapshot: the waiting ones hold places 1, 2, ... in the order they came
    st, lst = srv.json("GET", "/api/jobs")
    waiting = [j["position"] for j in lst["jobs"] if j["id"] in {q["id"] for q in queued} and j["state"] == "queued"]
    check(waiting == list(range(1, len(waiting) + 1)) and len(waiting) >= 1, "queue: places %s" % waiting)
    max_running, order = 0, []
    deadline = time.time() + 300
    while time.time() < deadline:
        st, lst = srv.json("GET", "/api/jobs")
        mine = [j for j in lst["jobs"] if j["id"] in {q["id"] for q in queued}]
        max_running = max(max_running, sum(j["state"] == "running" for j in mine))
        for j in mine:
            if j["state"] == "done" and j["id"] not in order:
                order.append(j["id"])
        if all(j["state"] in ("done", "failed", "cancelled") for j in mine):
            break
        time.sleep(0.05)
    check(max_running == 1, "queue: one job at a time (saw %d running)" % max_running)
    check(order == [q["id"] for q in queued], "queue: done in the order submitted")
    check(len(set(run_dirs()) - before) == 3, "queue: three runs")

    # ---------------------------------------------------------------- cancel
    before = set(run_dirs())
    long_params = {"i2i.steps": 200, "a2i.width": 96, "a2i.height": 64, "i2a.readings": "red"}
    st, a = srv.submit(up["id"], long_params)
    st, b = srv.submit(up["id"], long_params)
    check(b["state"] == "queued", "cancel: the second waits")
    st, cb = srv.json("POST", "/api/jobs/%s/cancel" % b["id"], {})
    check(st == 200 and cb["state"] == "cancelled", "cancel: a queued job (%s)" % cb["state"])
    deadline = time.time() + 120
    while time.time() < deadline:
        j = srv.json("GET", "/api/jobs/" + a["id"])[1]
        if j["stage"] == "painting" and j["step"] >= 2:
            break
        time.sleep(0.05)
    t0 = time.time()
    st, ca = srv.json("DELETE", "/api/jobs/" + a["id"])
    check(st == 200, "cancel: a running job")
    a = srv.wait(a["id"], 60)
    check(a["state"] == "cancelled" and time.time() - t0 < 10, "cancel: stops within seconds (%s after %.1f s)" %
          (a["state"], time.time() - t0))
    b = srv.json("GET", "/api/jobs/" + b["id"])[1]
    check(b["state"] == "cancelled" and "started" not in b, "cancel: the queued one never started")
    check(set(run_dirs()) == before, "cancel: no run folder")
    check(studio_tmp_empty(), "cancel: nothing left in .studio/tmp")

    # ---------------------------------------------------------------- bad uploads
    text = os.path.join(T, "notes.wav")
    with open(text, "w") as f:
        f.write("these are not the sounds you are looking for\n" * 20)
    st, e = srv.upload(text)
    check(st == 415 and e["code"] == "not_audio" and "not a sound" in e["error"], "not audio: %s %s" % (st, e))
    check("notes.wav" in e.get("detail", "") and RUNS not in e.get("detail", ""),
          "not audio: the detail names the person's file, not ours (%s)" % e.get("detail"))
    empty = os.path.join(T, "empty.wav")
    open(empty, "w").close()
    st, e = srv.upload(empty)
    check(st == 400 and e["code"] == "empty", "empty upload: %s" % st)
    truncated = os.path.join(T, "truncated.wav")
    with open(SOUND, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[: len(data) // 3])
    st, e = srv.upload(truncated)
    check(st == 415, "truncated WAV: %s %s" % (st, e))
    long_wav = os.path.join(T, "long.wav")
    write_wav(long_wav, 40)
    st, e = srv.upload(long_wav)
    check(st == 413 and e["code"] == "too_long" and "30 seconds" in e["error"], "too long: %s %s" % (st, e))
    st, e = srv.upload(SOUND, content_type="text/plain")
    check(st == 415 and e["code"] == "content_type", "upload as text/plain: %s" % st)
    # larger than --max-upload-mb: refused from its length, before the body is read
    s = socket.create_connection((srv.host, srv.port), 30)
    s.sendall(b"POST /api/uploads HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: 3000000\r\n\r\n" % (srv.host.encode(), srv.port) + b"RIFF" + b"\0" * 60000)
    reply = s.recv(65536).decode(errors="replace")
    s.close()
    check(reply.startswith("HTTP/1.1 413") and "too_large" in reply, "oversized (Content-Length): %s" % reply[:40])
    # the same without a length (chunked): refused when the limit is passed
    s = socket.create_connection((srv.host, srv.port), 30)
    s.sendall(b"POST /api/uploads HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/octet-stream\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n" % (srv.host.encode(), srv.port))
    reply = b""
    for _ in range(40):
        s.sendall(b"10000\r\n" + b"\0" * 0x10000 + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    try:
        reply = s.recv(65536)
    except OSError:
        pass
    s.close()
    check(reply.startswith(b"HTTP/1.1 413") and b"too_large" in reply, "oversized (chunked): refused (%r)" % reply[:40])
    time.sleep(0.5)
    check(studio_tmp_empty(), "bad uploads: nothing left in .studio/tmp")
    check(srv.alive(), "bad uploads: the server still answers")

    # ---------------------------------------------------------------- bad settings
    for params, code in (({"nope": 1}, 422), ({"i2i.strength": "strong"}, 422), ({"i2i.sampler": "sideways"}, 422),
                         ({"i2i.steps": 2.5}, 422), ({"i2a.readings": "red,nope"}, 422), ({"preset": "nope"}, 422),
                         ({"a2i.db_range": 5}, 422), ({"i2a.bits": 20}, 422), ({"i2i.steps": 0}, 422),
                         ({"i2i.seed": -1}, 422), ({"i2i.prompt": 3}, 422), ({"model": "x"}, 422),
                         ({"clips.seconds": 1, "clips.overlap_seconds": 0.8}, 422),
                         ({"model.name": "/etc"}, 403), ({"model.name": "someone/else"}, 403)):
        st, e = srv.submit(up["id"], params)
        check(st == code and e.get("error"), "bad settings %s: %s %s" % (params, st, e))
        check(code != 422 or e.get("code") == "bad_params" and list(params)[-1] in e["error"],
              "bad settings %s: the error names the setting (%s)" % (params, e.get("error")))
    st, e = srv.json("POST", "/api/jobs", {"input": {"upload": "0123456789abcdef.wav"}, "params": {}})
    check(st == 404, "unknown upload: %s" % st)
    st, e = srv.json("POST", "/api/jobs", {"input": {"upload": "../../etc/passwd"}, "params": {}})
    check(st == 404, "upload id with a path: %s" % st)
    st, _, _ = srv.request("POST", "/api/jobs", b"{not json", {"Content-Type": "application/json"})
    check(st == 400, "not JSON: %s" % st)
    st, _, _ = srv.request("POST", "/api/jobs", b"{}", {"Content-Type": "text/plain"})
    check(st == 415, "JSON sent as text/plain (a cross-site form could): %s" % st)
    # a job whose model is missing fails in words, and the server goes on
    missing = Server(os.path.join(T, "runs-missing"), "--model", os.path.join(T, "no-such-model"))
    st, up2 = missing.upload(SOUND)
    st, j = missing.submit(up2["id"], SMALL)
    j = missing.wait(j["id"])
    check(j["state"] == "failed" and "model" in j["error"]["message"] and j["error"]["detail"],
          "missing model: failed in words (%s)" % j["error"])
    check(missing.alive() and [d for d in os.listdir(missing.dir) if d[0] != "."] == [],
          "missing model: still serving, nothing in --dir")
    missing.stop()

    # ---------------------------------------------------------------- Host, Origin, fetch metadata
    hp = "%s:%d" % (srv.host, srv.port)
    for headers, want in (({"Host": "evil.example:%d" % srv.port}, 403), ({"Host": "%s:1" % srv.host}, 403),
                          ({"Host": None}, 403), ({"Host": "localhost:%d" % srv.port}, 200),
                          ({"Origin": "http://evil.example"}, 403), ({"Origin": "null"}, 403),
                          ({"Origin": "http://" + hp}, 200), ({"Origin": "https://" + hp}, 403),
                          ({"Sec-Fetch-Site": "cross-site"}, 403), ({"Sec-Fetch-Site": "same-origin"}, 200)):
        st, _, _ = srv.request("GET", "/api/runs", headers=headers)
        check(st == want, "GET /api/runs with %s: %s, want %s" % (headers, st, want))
    st, _, _ = srv.request("POST", "/api/jobs/%s/cancel" % queued[0]["id"], {}, {"Origin": "http://evil.example"})
    check(st == 403, "POST from another origin: %s" % st)
    st, _, _ = srv.request("GET", "/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    check(st == 200, "a link from another site may open the page: %s" % st)
    st, _, _ = srv.request("PUT", "/api/runs", b"x", {"Content-Type": "application/json"})
    check(st == 405, "PUT: %s" % st)

    # ---------------------------------------------------------------- path traversal
    os.symlink("/", os.path.join(RUNS, "root-link"))
    leaky = os.path.join(RUNS, "leaky")
    shutil.copytree(cli_out, leaky)
    os.symlink("/etc/passwd", os.path.join(leaky, "leak.png"))
    with open(os.path.join(leaky, "run.json")) as f:
        rj = json.load(f)
    rj["outputs"]["leak.png"] = "0" * 64
    with open(os.path.join(leaky, "run.json"), "w") as f:
        json.dump(rj, f)
    os.makedirs(os.path.join(T, "outside"))
    with open(os.path.join(T, "outside", "secret.txt"), "w") as f:
        f.write("root:secret\n")
    attempts = [
        "/api/runs/..%2F..%2F..%2Fetc/files/passwd", "/api/runs/%2e%2e/files/run.json",
        "/api/runs/%s/files/..%%2F..%%2F..%%2Fetc%%2Fpasswd" % run_id, "/api/runs/%s/files/%%2e%%2e" % run_id,
        "/api/runs/%s/files/%%252e%%252e%%252fetc%%252fpasswd" % run_id, "/api/runs/%s/files/..\\..\\etc\\passwd" % run_id,
        "/api/runs/%s/files/%%2Fetc%%2Fpasswd" % run_id, "/api/runs/%s/files/run.json%%00.png" % run_id,
        "/api/runs/.studio/files/uploads", "/api/runs/root-link/files/passwd", "/api/runs/root-link:etc/files/passwd",
        "/api/runs/leaky/files/leak.png", "/api/runs/..:outside/files/secret.txt", "/api/runs/%2e%2e:outside/zip",
        "/api/runs/%s:..%%2F..%%2Foutside/files/secret.txt" % run_id, "/api/uploads/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/uploads/%2e%2e%2fruns.wav", "/../../../etc/passwd", "/..%2F..%2F..%2Fetc%2Fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd", "/api/runs/../../../etc/passwd", "//etc/passwd", "/api/runs/root-link/zip",
        "/api/runs/leaky/zip",
    ]
    for path in attempts:
        st, _, data = srv.request("GET", path)
        if path == "/api/runs/leaky/zip":  # the run may be zipped, but not with what its link points to
            ok = st == 200 and b"root:" not in data and b"leak.png" not in data
        else:
            ok = st in (400, 403, 404) and b"root:" not in data
        check(ok, "traversal %s: %s %r" % (path, st, data[:60]))
    st, runs = srv.json("GET", "/api/runs")
    check("root-link" not in [r["id"] for r in runs["runs"]], "a link in --dir is not a run")
    st, _ = srv.json("DELETE", "/api/runs/root-link")
    check(st == 404 and os.path.exists("/etc/passwd"), "a link in --dir cannot be deleted through")
    check(srv.json("DELETE", "/api/runs/..%2Foutside")[0] == 404 and os.path.exists(os.path.join(T, "outside")),
          "delete outside --dir: refused")

    # ---------------------------------------------------------------- clients that vanish
    before = set(run_dirs())
    st, j = srv.submit(up["id"], dict(SMALL, **{"i2i.steps": 30}))
    for k in range(20):
        s = socket.create_connection((srv.host, srv.port), 10)
        s.sendall(b"POST /api/uploads HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Length: 1000000\r\n\r\n" % (srv.host.encode(), srv.port) + b"RIFF" + b"\1" * 100000)
        s.close()
        ev = Events(srv)
        it = iter(ev)
        next(it)  # hello
        if k % 2:
            ev.close()
        else:
            ev.r.fp.raw._sock.close()
    j = srv.wait(j["id"])
    check(j["state"] == "done", "disconnects: the job went on (%s)" % j["state"])
    time.sleep(0.5)
    check(studio_tmp_empty(), "disconnects: no upload left half-written")
    check(srv.alive(), "disconnects: the server still answers")
    check(len(os.listdir(os.path.join(RUNS, ".studio", "uploads"))) == 1, "disconnects: no upload kept")

# a second studio on the same folder is refused (it would take the first one's work for leftovers)
second = subprocess.run([A2I2A, "serve", "--port", "0", "--dir", RUNS], capture_output=True, text=True, timeout=30)
check(second.returncode == 1 and "another a2i2a serve" in second.stderr, "a second studio on --dir: %s" % second.stderr)
check(srv.alive(), "the first one goes on")

# ---------------------------------------------------------------- SIGTERM during a run
before = set(run_dirs())
st, j = srv.submit(up["id"], {"i2i.steps": 200, "a2i.width": 96, "a2i.height": 64, "i2a.readings": "red"})
deadline = time.time() + 120
while time.time() < deadline and srv.json("GET", "/api/jobs/" + j["id"])[1]["stage"] != "painting":
    time.sleep(0.05)
t0 = time.time()
rc = srv.stop(signal.SIGTERM)
check(rc == 0 and time.time() - t0 < 30, "SIGTERM: exit %s after %.1f s" % (rc, time.time() - t0))
check(set(run_dirs()) == before, "SIGTERM: no partial run folder")
check(studio_tmp_empty(), "SIGTERM: nothing left in .studio/tmp")

# ---------------------------------------------------------------- tokens
tok = Server(os.path.join(T, "runs-token"), "--model", MODEL, "--token", "s3cret-token")
check(tok.token is not None and tok.token == "s3cret-token", "token: printed in the address")
good = tok.token
tok.token = None
hp = "%s:%d" % (tok.host, tok.port)
for headers, path, want in (({}, "/api/info", 401), ({"X-A2I2A-Token": "wrong"}, "/api/info", 401),
                            ({"X-A2I2A-Token": good}, "/api/info", 200),
                            ({"Authorization": "Bearer " + good}, "/api/info", 200),
                            ({"Authorization": "Bearer s3cret-tokem"}, "/api/info", 401),
                            ({"Cookie": "a2i2a_token_%d=%s" % (tok.port, good)}, "/api/info", 200),
                            ({"Cookie": "a2i2a_token_%d=%s" % (tok.port + 1, good)}, "/api/info", 401),
                            ({}, "/api/info?token=" + good, 401), ({}, "/", 401), ({}, "/app.js", 401),
                            ({}, "/api/events", 401)):
    st, _, _ = tok.request("GET", path, headers=headers)
    check(st == want, "token: GET %s with %s: %s, want %s" % (path, list(headers), st, want))
st, hdr, _ = tok.request("GET", "/?token=" + good)
check(st == 303 and hdr.get("Location") == "/" and "HttpOnly" in hdr.get("Set-Cookie", "") and
      "SameSite=Strict" in hdr.get("Set-Cookie", ""), "token: the address sets the cookie and hides itself (%s)" % st)
st, _, _ = tok.request("POST", "/api/uploads", b"x", {"Content-Type": "application/octet-stream"})
check(st == 401, "token: an upload without it: %s" % st)
check(tok.stop() == 0, "token server stops")
# any other address than loopback gets a token even when none is given
wide = Server(os.path.join(T, "runs-wide"), "--host", "0.0.0.0", "--model", MODEL)
check(wide.token is not None and len(wide.token) >= 32, "0.0.0.0: a generated token (%s)" % wide.token)
tokn = wide.token
wide.token = None
wide.host = "127.0.0.1"
check(wide.request("GET", "/api/info")[0] == 401, "0.0.0.0: refused without the token")
wide.token = tokn
check(wide.request("GET", "/api/info")[0] == 200, "0.0.0.0: answered with it")
wide.stop()

# ---------------------------------------------------------------- the vocoder reading
# serve --vocoder: offered in the registry, a job's unless it names none, no other path allowed
VOC = os.path.join(os.environ.get("A2I2A_FIXTURES", "../shared/fixtures"), "vocoder", "tiny-vocos")
if not os.path.isdir(VOC):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
    import random_vocos
    VOC = os.path.join(T, "vocos")
    os.mkdir(VOC)
    random_vocos.write(VOC)
voc = Server(os.path.join(T, "runs-vocoder"), "--model", MODEL, "--vocoder", VOC)
st, reg = voc.json("GET", "/api/registry")
check(st == 200 and reg["vocoders"] == [VOC], "vocoder: offered in the registry (%s)" % reg.get("vocoders"))
check(srv_vocoders == [], "vocoder: none offered without --vocoder (%s)" % srv_vocoders)
st, up = voc.upload(SOUND)
for params, code in (({"i2a.vocoder": "/etc"}, 403), ({"i2a.vocoder": "someone/else"}, 403)):
    st, e = voc.submit(up["id"], dict(SMALL, **params))
    check(st == code and e.get("code") == "vocoder_not_allowed", "vocoder: %s refused: %s %s" % (params, st, e))
st, j = voc.submit(up["id"], dict(SMALL, **{"i2a.readings": "vocoder,red"}))
done = voc.wait(j["id"]) if st == 202 else {"state": st, "error": j}
check(done["state"] == "done", "vocoder: a job reads through the server's vocoder (%s)" % done.get("error"))
run_dir = os.path.join(T, "runs-vocoder", done.get("run", ""))
check(os.path.isfile(os.path.join(run_dir, "vocoder.wav")), "vocoder: vocoder.wav in the run (%s)" % done.get("run"))
st, j = voc.submit(up["id"], dict(SMALL, **{"i2a.readings": "vocoder", "i2a.vocoder": None}))
done = voc.wait(j["id"]) if st == 202 else {"state": st, "error": j}
check(st == 422 or done["state"] == "failed", "vocoder: a job that names none cannot read through one (%s)" % st)
voc.stop()
bad = subprocess.run([A2I2A, "serve", "--port", "0", "--dir", os.path.join(T, "runs-badvoc"), "--vocoder", T],
                     capture_output=True, text=True, timeout=30)
check(bad.returncode == 1 and "not a vocoder" in bad.stderr, "serve --vocoder of a folder of neither kind: %s" % bad.stderr)

shutil.rmtree(T, ignore_errors=True)
check.done()
