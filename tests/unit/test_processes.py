"""The lab stops only what it started: by pid file, and only if the pid is still its process."""

import subprocess
import sys

from hotline.lab.processes import ManagedProcess


def sleeper(tmp_path, marker: str) -> ManagedProcess:
    argv = (sys.executable, "-c", "import time; time.sleep(60)", marker)
    return ManagedProcess("sleeper", argv, tmp_path, marker)


def test_start_is_idempotent_and_stop_ends_the_process(tmp_path):
    process = sleeper(tmp_path, "hotline-test-marker-1")
    assert process.start() is True
    pid = process.pid()
    assert pid is not None
    assert process.start() is False and process.pid() == pid
    assert process.stop() is True
    assert process.pid() is None and not process.pid_file.exists()
    assert process.stop() is False


def test_a_stale_pid_file_naming_someone_else_is_left_alone(tmp_path):
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        process = sleeper(tmp_path, "hotline-test-marker-2")
        process.pid_file.write_text(f"{stranger.pid}\n")
        assert process.pid() is None
        assert process.stop() is False
        assert stranger.poll() is None, "a process the lab did not start was killed"
    finally:
        stranger.kill()
        stranger.wait()
