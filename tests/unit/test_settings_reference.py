"""The settings reference and the example local file are written from the code, and are current: a setting
added, renamed or given another default or meaning fails here until the documents are written again."""

import dataclasses
from pathlib import Path

import pytest

from hotline.cli import build_parser
from hotline.kernel.runtime.config import ENV_PREFIX, Settings, env_name
from hotline.kernel.runtime.reference import REGENERATE
from hotline.lab.settings import LabSettings, load_lab_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOCUMENTS = [("--markdown", "settings.md"), ("--env-example", "hotline.env.example")]


def written(flag: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What `hotline settings` prints, its plugins (the lab) loaded as the command line loads them."""
    args = build_parser().parse_args(["settings", flag])
    assert args.handler(args, Settings()) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("flag", "name"), DOCUMENTS)
def test_the_documents_are_what_the_code_writes_now(flag, name, capsys):
    current = (DOCS / name).read_text(encoding="utf-8")
    assert current == written(flag, capsys), f"docs/{name} is out of date; write it again: {REGENERATE}"


def test_every_setting_of_the_system_and_the_lab_is_documented():
    reference = (DOCS / "settings.md").read_text(encoding="utf-8")
    example = (DOCS / "hotline.env.example").read_text(encoding="utf-8")
    names = [env_name(spec) for spec in dataclasses.fields(LabSettings)]
    # Among them the ones a deployer once found in no document.
    assert {"HOTLINE_WEB_PORT", "HOTLINE_AMI_SECRET", "HOTLINE_REDIS_URL", "HOTLINE_RTP_START"} <= set(names)
    for name in names:
        assert f"| `{name}` |" in reference and f"\n# {name}=" in example, name
    assert "HOTLINE_CONFIG_FILE" in reference


def test_the_example_file_uncommented_gives_the_defaults_and_generates_the_secrets(tmp_path):
    example = (DOCS / "hotline.env.example").read_text(encoding="utf-8").splitlines()
    assert "# HOTLINE_AMI_SECRET=" in example and "# HOTLINE_PSTN_AMI_SECRET=" in example
    path = tmp_path / "hotline.env"
    path.write_text("\n".join(line[2:] for line in example if line.startswith(f"# {ENV_PREFIX}")) + "\n")
    loaded = load_lab_settings({"HOTLINE_CONFIG_FILE": str(path)})
    for spec in dataclasses.fields(LabSettings):
        if spec.metadata.get("generated"):
            assert getattr(loaded, spec.name), spec.name
        elif "env" not in spec.metadata:
            assert getattr(loaded, spec.name) == spec.default, spec.name
