"""The controller as a separate process, for lab tests and benchmarks that stop, kill and restart it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hotline.kernel.runtime.config import Settings


class ControllerProcess:
    def __init__(
        self, env: dict[str, str], settings: Settings, log_path: Path, runner: tuple[str, ...] = ("hotline",)
    ) -> None:
        """``runner``: the module run with ``serve``, ``hotline`` itself or a wrapper (the memory tracer)."""
        self.env, self.settings, self.log_path, self.runner = env, settings, log_path, runner
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.bind_host}:{self.settings.web_port}"

    def start(self) -> None:
        env = {**os.environ, **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *self.runner, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self.wait_healthy()
        except AssertionError:
            self.kill()  # never leave a controller holding the ports for the next test
            raise

    def wait_healthy(self, timeout: float = 20) -> None:
        """Polls /healthz synchronously, so async tests can restart the controller too."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        log = self.log_path.read_text()[-2000:]
        raise AssertionError(f"controller not healthy in {timeout}s; log: {log}")

    def kill(self) -> None:
        """A crash: no clean shutdown, sockets cut."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)
        self.process = None

    def stop(self) -> None:
        """SIGTERM, as an operator's Ctrl-C. A stop step that overran (``kernel.runtime.stopping``) fails the
        test with the log's account of what it waited for; a controller still running after 15 s is
        killed first, so the next test gets its ports."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
            raise AssertionError(
                f"controller still running 15 s after SIGTERM; killed. Log: {self.log_path}"
            ) from None
        log = self.log_path.read_text()
        if "overran" in log:
            account = log[log.index("overran") - 100 :][:4000]
            raise AssertionError(f"the controller's stop overran ({self.log_path}):\n{account}")


def api_token(env: dict[str, str], name: str, role: str = "supervisor") -> str:
    """An API token for a user (a supervisor unless told), made with the CLI a deployment uses."""
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "users", "add", name, "--role", role, "--rotate"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()  # the token alone
