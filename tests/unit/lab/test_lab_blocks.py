"""Labs side by side: each lab number's ports and folders are its own, below the ephemeral range, and apart
from what `hotline run` uses by default, so test workers and a running system share one host."""

import pytest

from hotline.kernel.runtime.config import ephemeral_port_range
from hotline.lab.blocks import MOST_LABS, BlockError, LabBlock
from hotline.lab.settings import LabSettings, load_lab_settings


def every_port(block: LabBlock, settings: LabSettings) -> list[int]:
    """The lab's listeners and RTP ranges, then the servers tests start beside it."""
    listened = [number for _, first, last in settings.listeners() for number in range(first, last + 1)]
    tests = [block.softphone_port, block.imap_port, block.mail_relay_port, block.postgres_port]
    return [*listened, *tests, block.lone_redis_port]


def labs(tmp_path) -> list[tuple[LabBlock, LabSettings]]:
    blocks = [LabBlock(number, spare) for number in range(MOST_LABS) for spare in (False, True)]
    return [(block, load_lab_settings(block.environment(tmp_path / block.name))) for block in blocks]


def test_every_lab_s_ports_are_its_own_and_below_the_ephemeral_range(tmp_path):
    """Loading a block's settings checks its listeners against each other and the kernel's range; the test's
    own servers (softphone, IMAP, relay, PostgreSQL, Redis) must not meet them or another lab's."""
    first_ephemeral = ephemeral_port_range()[0]
    seen: dict[int, str] = {}
    for block, settings in labs(tmp_path):
        ports = every_port(block, settings)
        assert len(set(ports)) == len(ports), f"two of {block.name}'s servers share a port"
        assert max(ports) < first_ephemeral
        clashes = {port: seen[port] for port in ports if port in seen}
        assert not clashes, f"{block.name} shares ports with {clashes}"
        seen.update(dict.fromkeys(ports, block.name))


def test_no_lab_meets_the_ports_or_folders_of_hotline_run(tmp_path):
    running = load_lab_settings({"HOTLINE_CONFIG_FILE": str(tmp_path / "run.env")})
    defaults = {number for _, first, last in running.listeners() for number in range(first, last + 1)}
    for block, settings in labs(tmp_path):
        assert not set(every_port(block, settings)) & defaults
        assert settings.asterisk_instance_dir != running.asterisk_instance_dir
        assert settings.pstn_instance_dir.startswith(block.instance_root)
        assert settings.home == tmp_path / block.name / "var"


def test_a_lab_number_past_the_last_block_is_refused():
    with pytest.raises(BlockError, match=f"only labs 0 to {MOST_LABS - 1}"):
        LabBlock(MOST_LABS)
