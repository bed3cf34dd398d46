"""A private PostgreSQL cluster on loopback for tests and benchmarks (Debian's server binaries).

It lives in its own folder, owned by the ``postgres`` user, with a generated
password kept in that folder (never in the repository), and listens on
127.0.0.1 only. ``start`` returns an admin URL; ``create_database`` gives each
test run a fresh database.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class PostgresError(RuntimeError):
    pass


def server_bin() -> Path:
    """The newest Debian PostgreSQL server installed (``/usr/lib/postgresql/<v>/bin``)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise PostgresError("the PostgreSQL server is not installed (apt-get install postgresql)")
    return versions[-1].parent


@dataclass(frozen=True)
class PostgresServer:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def password_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.password"

    def url(self, database: str = "postgres") -> str:
        password = self.password_file.read_text().strip()
        return f"postgresql+asyncpg://postgres:{password}@{self.host}:{self.port}/{database}"

    def _as_postgres(self, *argv: str) -> subprocess.CompletedProcess[str]:
        runner = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else []
        return subprocess.run([*runner, *argv], capture_output=True, text=True, check=False)

    def ensure_cluster(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        shutil.rmtree(self.data_dir, ignore_errors=True)  # a half-made cluster of ours
        self.data_dir.mkdir(parents=True)
        shutil.chown(self.data_dir, "postgres", "postgres")
        self.data_dir.chmod(0o700)
        self.password_file.write_text(secrets.token_urlsafe(18) + "\n")
        self.password_file.chmod(0o600)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.initpw"
        pwfile.write_text(self.password_file.read_text())
        shutil.chown(pwfile, "postgres", "postgres")
        result = self._as_postgres(
            str(server_bin() / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
            f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        pwfile.unlink()
        if result.returncode != 0:
            raise PostgresError(f"initdb failed: {result.stderr.strip()}")

    def running(self) -> bool:
        result = self._as_postgres(str(server_bin() / "pg_ctl"), "-D", str(self.data_dir), "status")
        return result.returncode == 0

    def start(self) -> bool:
        """Start unless running; True when this call started it."""
        self.ensure_cluster()
        if self.running():
            return False
        options = f"-p {self.port} -c listen_addresses={self.host} -k {self.data_dir} -c fsync=off"
        result = self._as_postgres(
            str(server_bin() / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        if result.returncode != 0:
            log = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
            raise PostgresError(f"PostgreSQL did not start: {result.stderr.strip()}\n{log}")
        return True

    def stop(self) -> None:
        self._as_postgres(str(server_bin() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
