"""Asterisk's log is bounded: rotated once a file passes the bound, old files beyond the kept ones gone."""

from __future__ import annotations

from typing import Any

from hotline.kernel.asterisk.ami import AmiReply
from hotline.kernel.asterisk.logfiles import LogBound


class Asterisk:
    """Rotates its log folder as ``rotatestrategy = rotate`` does when told over AMI."""

    def __init__(self, log_dir, connected: bool = True) -> None:
        self.log_dir, self.connected = log_dir, connected
        self.actions: list[str] = []

    async def action(self, name: str, headers: dict[str, Any], **_: Any) -> AmiReply:
        self.actions.append(name)
        for name_ in ("messages.log", "queue_log"):
            olds = sorted(self.log_dir.glob(f"{name_}.*"), key=lambda p: -int(p.name.rsplit(".", 1)[1]))
            for old in olds:
                number = int(old.name.rsplit(".", 1)[1])
                old.rename(self.log_dir / f"{name_}.{number + 1}")
            current = self.log_dir / name_
            if current.exists():
                current.rename(self.log_dir / f"{name_}.0")
        return AmiReply({"Response": "Success"})


async def test_a_log_past_the_bound_is_rotated_and_no_more_than_the_kept_old_files_remain(tmp_path):
    asterisk = Asterisk(tmp_path)
    bound = LogBound(tmp_path, asterisk, max_bytes=1000, keep=2)  # type: ignore[arg-type]
    for _ in range(5):
        (tmp_path / "messages.log").write_bytes(b"x" * 1500)  # a flood between two rounds
        await bound.check()
    assert asterisk.actions == ["LoggerRotate"] * 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messages.log.0", "messages.log.1"]


async def test_a_log_under_the_bound_is_left_alone(tmp_path):
    asterisk = Asterisk(tmp_path)
    (tmp_path / "messages.log").write_bytes(b"x" * 999)
    (tmp_path / "queue_log").write_bytes(b"x" * 10)
    await LogBound(tmp_path, asterisk, max_bytes=1000).check()  # type: ignore[arg-type]
    assert asterisk.actions == [] and (tmp_path / "messages.log").stat().st_size == 999


async def test_while_asterisk_is_away_old_files_are_still_pruned(tmp_path):
    asterisk = Asterisk(tmp_path, connected=False)
    for n in range(6):
        (tmp_path / f"messages.log.{n}").write_text("old")
    (tmp_path / "messages.log").write_bytes(b"x" * 2000)
    await LogBound(tmp_path, asterisk, max_bytes=1000, keep=3).check()  # type: ignore[arg-type]
    assert asterisk.actions == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "messages.log",
        "messages.log.0",
        "messages.log.1",
        "messages.log.2",
    ]
