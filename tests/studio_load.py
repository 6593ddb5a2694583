"""a2i2a serve under load on loopback: 50 clients, each streaming the events and polling the queue
and the history, while a job runs. The job's time (as the server measures it) must grow by less
than 10 % against the same job alone, no request may fail, and the server's memory (VmRSS) must
stay flat from one loaded job to the next. Five rounds of the job alone and the job loaded, side
by side (in alternating order); the median of the rounds' ratios is the growth."""
import json
import os
import re
import selectors
import shutil
import socket
import tempfile
import threading
import time

from studio_common import MODEL, SOUND, Checks, Server

CLIENTS = 50
POLL_SECONDS = 0.5
ROUNDS = 5
# long enough to time (a few seconds), small enough for CI: the seed style's full 400x296
# spectrogram, 12 steps, one reading
JOB = {"i2i.steps": 12, "i2a.readings": "inverse", "sheet": False}

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


class Load(threading.Thread):
    """CLIENTS tabs, each an event stream and a keep-alive connection that polls the queue, the
    history and the server's info every POLL_SECONDS, all driven by one thread through a selector
    (the load must come from the requests, not from the test's own Python threads)."""

    PATHS = ["/api/jobs", "/api/runs?limit=50", "/api/info"]

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.sel = selectors.DefaultSelector()
        self.requests = self.failures = 0
        self.errors = []
        self.streams = []  # per client: bytes of its event stream
        self.pollers = []
        self.host = ("%s:%d" % (srv.host, srv.port)).encode()
        now = time.time()
        for k in range(CLIENTS):
            s = socket.create_connection((srv.host, srv.port), 10)
            s.setblocking(False)
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: " + self.host + b"\r\nAccept: text/event-stream\r\n\r\n")
            self.streams.append(bytearray())
            self.sel.register(s, selectors.EVENT_READ, ("stream", k))
            # polls spread over the period
            self.pollers.append({"sock": None, "next": now + POLL_SECONDS * k / CLIENTS, "buf": b"", "path": None, "i": k})

    def fail(self, what):
        self.failures += 1
        if len(self.errors) < 3:
            self.errors.append(what)

    def send_poll(self, p):
        if p["sock"] is None:
            p["sock"] = socket.create_connection((srv.host, srv.port), 10)
            p["sock"].setblocking(False)
            self.sel.register(p["sock"], selectors.EVENT_READ, ("poll", p))
        p["path"] = self.PATHS[p["i"] % len(self.PATHS)]
        p["i"] += 1
        p["buf"] = b""
        p["sock"].sendall(b"GET " + p["path"].encode() + b" HTTP/1.1\r\nHost: " + self.host + b"\r\n\r\n")
        p["next"] = None

    def read_poll(self, p, data):
        if not data:  # the server closed the keep-alive connection: open another next time
            self.sel.unregister(p["sock"])
            p["sock"].close()
            p["sock"] = None
            if p["next"] is None:
                self.fail("%s: connection closed" % p["path"])
                p["next"] = time.time() + POLL_SECONDS
            return
        p["buf"] += data
        head, sep, body = p["buf"].partition(b"\r\n\r\n")
        if not sep:
            return
        length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), None)
        if length is None or len(body) < length:
            return
        self.requests += 1
        if not head.startswith(b"HTTP/1.1 200"):
            self.fail("%s: %s" % (p["path"], head.split(b"\r\n")[0]))
        else:
            try:
                json.loads(body[:length])
            except ValueError:
                self.fail("%s: not JSON" % p["path"])
        p["buf"] = b""
        p["next"] = time.time() + POLL_SECONDS

    def run(self):
        while not self.stop.is_set():
            now = time.time()
            for p in self.pollers:
                if p["next"] is not None and p["next"] <= now:
                    try:
                        self.send_poll(p)
                    except OSError as e:
                        self.fail("%s: %r" % (p["path"], e))
                        p["sock"], p["next"] = None, now + POLL_SECONDS
            due = [p["next"] for p in self.pollers if p["next"] is not None]
            timeout = max(0.0, min(due) - time.time()) if due else 0.05
            for key, _ in self.sel.select(min(timeout, 0.05)):
                kind, who = key.data
                try:
                    data = key.fileobj.recv(65536)
                except OSError as e:
                    data = b""
                    self.fail("%s: %r" % (kind, e))
                if kind == "stream":
                    if not data:
                        self.fail("stream %d closed" % who)
                        self.sel.unregister(key.fileobj)
                    self.streams[who] += data
                else:
                    self.read_poll(who, data)

    def close(self):
        self.stop.set()
        self.join(10)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()

    def stream_ok(self, k, job_id):
        """The stream answered 200 and saw the job end."""
        data = bytes(self.streams[k])
        return data.startswith(b"HTTP/1.1 200") and (b'"id":"%s","run":' % job_id.encode()) in data and \
            re.search(b'"id":"%s","run":"[^"]*","state":"done"' % job_id.encode(), data) is not None

    def events(self):
        return sum(bytes(d).count(b"event: job") for d in self.streams)


run_job()  # the model loads, the kernels' scratch grows: not timed
def timed_alone():
    c0 = cpu_seconds()
    t, _ = run_job()
    return t, cpu_seconds() - c0


def timed_loaded(r):
    load = Load()
    load.start()
    time.sleep(1.5)  # every client streaming and polling before the job starts
    c0, me = cpu_seconds(), os.times()
    t, job_id = run_job()
    cpu = cpu_seconds() - c0
    clients = os.times().user + os.times().system - me.user - me.system
    time.sleep(0.5)
    load.close()
    check(load.failures == 0, "round %d: no request failed (%d of %d: %s)" %
          (r + 1, load.failures, load.requests, load.errors))
    check(load.requests >= CLIENTS * t / POLL_SECONDS, "round %d: the clients polled (%d requests)" % (r + 1, load.requests))
    seen = sum(load.stream_ok(k, job_id) for k in range(CLIENTS))
    check(seen == CLIENTS, "round %d: every stream saw the job end (%d of %d)" % (r + 1, seen, CLIENTS))
    time.sleep(1.0)  # the connections' threads end
    rss.append(srv.rss_kb())
    return t, cpu, clients, load


ratios, rss = [], []
for r in range(ROUNDS):
    # the order alternates, so that a drift of the machine favours neither
    if r % 2 == 0:
        alone, cpu_alone = timed_alone()
        loaded, cpu_loaded, cpu_clients, load = timed_loaded(r)
    else:
        loaded, cpu_loaded, cpu_clients, load = timed_loaded(r)
        alone, cpu_alone = timed_alone()
    ratios.append(loaded / alone)
    print("round %d: job alone %.2f s (server CPU %.2f s), with %d clients %.2f s (server CPU %.2f s, the clients' "
          "%.2f s; %d requests, %d events): %+.1f %%; server VmRSS after it %d KB" %
          (r + 1, alone, cpu_alone, CLIENTS, loaded, cpu_loaded, cpu_clients, load.requests, load.events(),
           100 * (ratios[-1] - 1), rss[-1]), flush=True)

# Each round's two jobs ran side by side in time, under the same weather of the machine (other
# work only ever slows a job down, for seconds at a time): the median of the rounds' ratios.
growth = sorted(ratios)[len(ratios) // 2] - 1
print("the job's time with %d clients against alone, median of %d rounds: %+.1f %%" % (CLIENTS, ROUNDS, 100 * growth))
check(growth < 0.10, "the job's time grows by less than 10 %% under load (%+.1f %%)" % (100 * growth))
# the first loaded round fills glibc's per-thread arenas once (a thread per connection); from
# then on the memory must stay where it is (a leak per request or per event would climb)
print("server VmRSS after each loaded job: %s KB" % rss)
check(rss[-1] - rss[1] < 4096, "memory stays flat: %+d KB from the second loaded job to the last" % (rss[-1] - rss[1]))
check(srv.stop() == 0, "the server stops cleanly")
shutil.rmtree(T, ignore_errors=True)
check.done()
