"""a2i2a serve under load on loopback: 50 clients, each streaming the events and polling the queue
and the history, while a job runs. The job's time (as the server measures it) must grow by less
than 10 % against the same job alone, no request may fail, and the server's memory (VmRSS) must
stay flat from one loaded job to the next. Alone and loaded alternate, three times each, and the
fastest of each kind is compared (other work on the machine only ever slows a job down)."""
import http.client
import json
import os
import shutil
import tempfile
import threading
import time

from studio_common import MODEL, SOUND, Checks, Events, Server

CLIENTS = 50
POLL_SECONDS = 0.5
ROUNDS = 3
# long enough to time (a few seconds), small enough for CI: the seed style's full 400x296
# spectrogram, 4 steps, one reading
JOB = {"i2i.steps": 4, "i2a.readings": "inverse", "sheet": False}

check = Checks()
T = tempfile.mkdtemp(prefix="a2i2a-studio-load-")
os.environ["XDG_CACHE_HOME"] = os.path.join(T, "cache")
srv = Server(os.path.join(T, "runs"), "--model", MODEL)
st, up = srv.upload(SOUND)
check(st == 201, "upload: %s" % st)


def cpu_seconds():
    """The server's user + system CPU time."""
    with open("/proc/%d/stat" % srv.proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_job():
    st, j = srv.submit(up["id"], JOB)
    check(st == 202, "submit: %s %s" % (st, j))
    j = srv.wait(j["id"], 600)
    check(j["state"] == "done", "job done (%s)" % j.get("error"))
    return j["finished"] - j["started"], j["id"]


class Client(threading.Thread):
    """One tab: an event stream, and a poll of the queue and the history every POLL_SECONDS."""

    def __init__(self, k, stop):
        super().__init__(daemon=True)
        self.k, self.stop = k, stop
        self.requests = self.failures = self.events = 0
        self.done_seen = set()
        self.errors = []
        self.stream = threading.Thread(target=self.watch, daemon=True)

    def watch(self):
        try:
            ev = Events(srv, timeout=120)
            if ev.status != 200:
                self.fail("events: %s" % ev.status)
                return
            self.ev = ev
            for event, data in ev:
                self.events += 1
                if event == "job" and data["state"] == "done":
                    self.done_seen.add(data["id"])
                if self.stop.is_set():
                    break
        except Exception as e:  # a stream closed by the stop is no failure
            if not self.stop.is_set():
                self.fail("events: %r" % e)

    def fail(self, what):
        self.failures += 1
        if len(self.errors) < 3:
            self.errors.append(what)

    def run(self):
        self.stream.start()
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        paths = ["/api/jobs", "/api/runs?limit=50", "/api/info"]
        time.sleep(POLL_SECONDS * self.k / CLIENTS)  # spread the polls over the second
        i = 0
        while not self.stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            try:
                conn.request("GET", path, headers={"Host": "%s:%d" % (srv.host, srv.port)})
                r = conn.getresponse()
                body = r.read()
                self.requests += 1
                if r.status != 200:
                    self.fail("%s: %s" % (path, r.status))
                else:
                    json.loads(body)
            except Exception as e:
                self.fail("%s: %r" % (path, e))
                conn.close()
                conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
            self.stop.wait(POLL_SECONDS)
        conn.close()


run_job()  # the model loads, the kernels' scratch grows: not timed
alone, loaded, rss, cpu_alone, cpu_loaded = [], [], [], [], []
stop = threading.Event()
clients = []
for r in range(ROUNDS):
    c0 = cpu_seconds()
    t, _ = run_job()
    cpu_alone.append(cpu_seconds() - c0)
    alone.append(t)
    stop.clear()
    clients = [Client(k, stop) for k in range(CLIENTS)]
    for c in clients:
        c.start()
    time.sleep(1.5)  # every client streaming and polling before the job starts
    c0 = cpu_seconds()
    t, job_id = run_job()
    cpu_loaded.append(cpu_seconds() - c0)
    loaded.append(t)
    time.sleep(0.5)
    stop.set()
    for c in clients:
        c.join(10)
        if getattr(c, "ev", None):
            c.ev.close()
        c.stream.join(10)
    requests = sum(c.requests for c in clients)
    failures = sum(c.failures for c in clients)
    errors = [e for c in clients for e in c.errors][:3]
    check(failures == 0, "round %d: no request failed (%d of %d: %s)" % (r + 1, failures, requests, errors))
    check(requests >= CLIENTS * 3, "round %d: the clients polled (%d requests)" % (r + 1, requests))
    seen = sum(job_id in c.done_seen for c in clients)
    check(seen == CLIENTS, "round %d: every stream saw the job end (%d of %d)" % (r + 1, seen, CLIENTS))
    time.sleep(1.0)  # the connections' threads end
    rss.append(srv.rss_kb())
    print("round %d: job alone %.2f s (server CPU %.2f s), with %d clients %.2f s (server CPU %.2f s; %d requests, "
          "%d events), server VmRSS %d KB" % (r + 1, alone[-1], cpu_alone[-1], CLIENTS, loaded[-1], cpu_loaded[-1],
                                               requests, sum(c.events for c in clients), rss[-1]), flush=True)

growth = min(loaded) / min(alone) - 1
print("job alone %.3f s, with %d clients %.3f s: %+.1f %%" % (min(alone), CLIENTS, min(loaded), 100 * growth))
check(growth < 0.10, "the job's time grows by less than 10 %% under load (%+.1f %%)" % (100 * growth))
print("server VmRSS after each loaded round: %s KB" % rss)
check(rss[-1] - rss[0] < 8192, "memory stays flat: %+d KB from the first loaded round to the last" % (rss[-1] - rss[0]))
check(srv.stop() == 0, "the server stops cleanly")
shutil.rmtree(T, ignore_errors=True)
check.done()
