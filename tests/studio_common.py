"""Shared pieces of the studio's tests: a server on a free loopback port, raw HTTP requests, the
event stream, and a pass/fail counter in the style of tests/check.h. Python's standard library only."""
import atexit
import hashlib
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time

A2I2A = os.environ.get("A2I2A", "build/a2i2a")
MODEL = "examples/tiny-sd1"
SOUND = "examples/sampling.wav"
# small runs keep the tests quick: 2 steps on a 96x64 spectrogram, two readings
SMALL = {"i2i.steps": 2, "a2i.width": 96, "a2i.height": 64, "i2a.readings": "red,inverse"}
SMALL_CLI = ["--steps", "2", "--spec-width", "96", "--spec-height", "64", "--readings", "red,inverse"]


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what, flush=True)
        return cond

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        sys.exit(1 if self.failed else 0)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


_servers = []


@atexit.register
def _kill_left_over():
    """A test that stops half-way leaves no server behind."""
    for p in _servers:
        if p.poll() is None:
            p.kill()
            p.wait()


class Server:
    """`a2i2a serve --port 0` with its stdout read for the address it prints."""

    def __init__(self, runs_dir, *args, log=None, hf_cache=None):
        self.dir = runs_dir
        self.log = open(log or os.path.join(os.path.dirname(runs_dir), "serve.log"), "a")
        cmd = [A2I2A, "serve", "--port", "0", "--dir", runs_dir] + list(args)
        # previews would decode with madebyollin/taesd from the user's Hugging Face cache: none here
        env = dict(os.environ, HF_HUB_CACHE=hf_cache or os.path.join(os.path.dirname(runs_dir), "no-hf-cache"))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=env)
        _servers.append(self.proc)
        self.url = None
        out = b""
        deadline = time.time() + 30
        while time.time() < deadline and not self.url:
            r, _, _ = select.select([self.proc.stdout], [], [], 1)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                out += chunk
                for line in out.decode().splitlines():
                    if "http://" in line:
                        self.url = line.split()[-1]
        if not self.url:
            self.proc.kill()
            raise RuntimeError("a2i2a serve printed no address")
        rest = self.url[len("http://"):]
        hostport, _, tail = rest.partition("/")
        self.host, _, port = hostport.rpartition(":")
        self.port = int(port)
        self.token = tail.partition("token=")[2] or None

    def conn(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers, body bytes); path is sent exactly as given."""
        h = {"Host": "%s:%d" % (self.host, self.port)}
        if self.token:
            h["X-A2I2A-Token"] = self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        c = self.conn(timeout)
        try:
            c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in h.items():
                c.putheader(k, v)
            if body is not None and "Content-Length" not in h:
                c.putheader("Content-Length", str(len(body)))
            c.endheaders()
            if body is not None:
                c.send(body)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, {"raw": data[:200]}

    def upload(self, path, name=None, content_type="application/octet-stream"):
        with open(path, "rb") as f:
            data = f.read()
        return self.json("POST", "/api/uploads", data,
                         {"Content-Type": content_type, "X-Filename": name or os.path.basename(path)})

    def submit(self, upload_id, params, **extra):
        body = {"input": {"upload": upload_id}, "params": params}
        body.update(extra)
        return self.json("POST", "/api/jobs", body)

    def wait(self, job_id, timeout=300, states=("done", "failed", "cancelled")):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, j = self.json("GET", "/api/jobs/" + job_id)
            if status == 200 and j["state"] in states:
                return j
            time.sleep(0.1)
        raise RuntimeError("job %s did not finish in %d s" % (job_id, timeout))

    def alive(self):
        try:
            return self.json("GET", "/api/info")[0] == 200
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM, timeout=120):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


class Events:
    """The server-sent events of /api/events as (event, data) pairs."""

    def __init__(self, server, timeout=120):
        self.c = server.conn(timeout)
        h = {"Host": "%s:%d" % (server.host, server.port), "Accept": "text/event-stream"}
        if server.token:
            h["X-A2I2A-Token"] = server.token
        self.c.request("GET", "/api/events", headers=h)
        self.r = self.c.getresponse()
        self.status = self.r.status

    def __iter__(self):
        event, data = "message", []
        while True:
            line = self.r.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if not line:
                if data:
                    yield event, json.loads("\n".join(data))
                event, data = "message", []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())

    def close(self):
        try:
            self.r.fp.raw._sock.shutdown(2)
        except (OSError, AttributeError):
            pass
        self.c.close()
