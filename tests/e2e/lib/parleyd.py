"""tests/e2e/lib/parleyd.py: the real parleyd for Python end-to-end tests.

    with Parleyd() as srv:      # $PARLEYD --listen 127.0.0.1:0 --data-dir <fresh tmp>
        srv.port, srv.ws_url, srv.log()
    # killed (SIGTERM, SIGKILL after 5 s) and its data dir removed on exit

The port comes from the log line "listening on http://127.0.0.1:PORT". On an
exception inside the with-block its whole output is printed to stderr.
"""
import os, re, shutil, signal, subprocess, sys, tempfile, threading, time

LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class Parleyd:
    def __init__(self, exe=None, args=(), timeout=30):
        self.exe = exe or os.environ.get("PARLEYD")
        if not self.exe:
            raise RuntimeError("PARLEYD is not set: run through `meson test` or set PARLEYD=/path/to/parleyd")
        self.args, self.timeout = list(args), timeout
        self.proc, self.port, self.exit_code = None, 0, None
        self._chunks, self._lock = [], threading.Lock()
        self._port_seen = threading.Event()

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self):
        with self._lock:
            return "".join(self._chunks)

    def dump(self, why=""):
        print(f"\n----- parleyd output ({why}) -----\n{self.log()}\n----- end of parleyd output -----",
              file=sys.stderr, flush=True)

    def _pump(self):
        for line in iter(self.proc.stdout.readline, b""):
            s = line.decode("utf-8", "replace")
            with self._lock:
                self._chunks.append(s)
            m = LISTEN_RE.search(s)
            if m and not self.port:
                self.port = int(m.group(1))
                self._port_seen.set()
        self._port_seen.set()          # EOF: wake start() up even without a port

    def start(self):
        self.data_dir = tempfile.mkdtemp(prefix="parley-e2e-data-")
        argv = [self.exe, "--listen", "127.0.0.1:0", "--data-dir", self.data_dir, *self.args]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._port_seen.wait(self.timeout) or not self.port:
            self.dump("no 'listening on' line")
            self.stop()
            raise RuntimeError("parleyd did not start")
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.exit_code = self.proc.returncode
        shutil.rmtree(getattr(self, "data_dir", ""), ignore_errors=True)
        return self.exit_code

    def __enter__(self):
        return self.start()

    def __exit__(self, etype, exc, tb):
        if etype is not None:
            self.dump(f"{etype.__name__}: {exc}")
        self.stop()
        return False
