"""docker-compose.yml is a valid deployment: validated by the docker client's own parser."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hotline.kernel.runtime.config import load_settings

REPO = Path(__file__).resolve().parents[2]


def compose_command() -> list[str]:
    """`docker compose` where the plugin exists, else Debian's docker-compose (make test installs it)."""
    plugin = shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True)
    if plugin and plugin.returncode == 0:
        return ["docker", "compose"]
    assert shutil.which("docker-compose"), "no compose client: run `make test`, which installs one"
    return ["docker-compose"]


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.run(
        [*compose_command(), "-f", str(REPO / "docker-compose.yml"), "config"],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid_and_takes_secrets_from_the_local_file(tmp_path):
    config_file = tmp_path / "hotline.env"
    settings = load_settings({"HOTLINE_CONFIG_FILE": str(config_file)})
    result = compose_config({"HOTLINE_CONFIG_FILE": str(config_file), "HOTLINE_DB_PASSWORD": "pw-from-env"})
    assert result.returncode == 0, result.stderr
    rendered = result.stdout
    for service in ("asterisk:", "controller:", "redis:", "postgres:", "configure:"):
        assert service in rendered
    assert settings.ami_secret in rendered  # taken from the generated local file
    assert settings.ami_secret not in (REPO / "docker-compose.yml").read_text()


def test_compose_refuses_to_start_without_a_database_password(tmp_path):
    config_file = tmp_path / "hotline.env"
    load_settings({"HOTLINE_CONFIG_FILE": str(config_file)})
    result = compose_config({"HOTLINE_CONFIG_FILE": str(config_file)})
    assert result.returncode != 0
    assert "HOTLINE_DB_PASSWORD" in result.stderr
