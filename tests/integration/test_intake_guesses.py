"""The desk's guesses: the directory taught to jieba once per version of it, off the event loop."""

from __future__ import annotations

import threading
from email.message import EmailMessage

import pytest

from hotline.intake.service import IntakeDesk
from hotline.ticketing.guesses import Gazetteer
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.tables import RegionRow


async def test_the_directory_is_taught_once_and_again_when_it_changes(desk: TicketDesk) -> None:
    taught = await desk.gazetteer()
    assert await desk.gazetteer() is taught, "the same directory: the same tokenizer, not a second one"
    assert "region" not in await desk.guesses("白洋镇停电了")
    async with desk.directory.writes.begin() as session:
        session.add(RegionRow(code="zj.baiyang", name="白洋镇", parent_code="zj", level=2))
    found = await desk.guesses("白洋镇停电了")
    assert (found["category"], found["region"]) == ("utilities.power", "zj.baiyang"), "the new town is known"
    assert await desk.gazetteer() is not taught


async def test_jieba_works_off_the_event_loop(desk: TicketDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.get_ident()
    threads: list[tuple[str, int]] = []

    def noting(name, work):
        def noted(self, *args):
            threads.append((name, threading.get_ident()))
            return work(self, *args)

        return noted

    monkeypatch.setattr(Gazetteer, "warm", noting("warm", Gazetteer.warm))
    monkeypatch.setattr(Gazetteer, "named_places", noting("cut", Gazetteer.named_places))
    await desk.warm_guesses()
    await desk.guesses("马家店停水")
    assert [name for name, _ in threads] == ["warm", "cut", "cut"]
    assert all(thread != loop_thread for _, thread in threads)


def mail(n: int) -> bytes:
    message = EmailMessage()
    message["From"], message["Subject"] = f"市民{n} <c{n}@example.cn>", "投诉"
    message["Message-ID"] = f"<fumes-{n}@example.cn>"
    message.set_content(f"马家店街道的饭店油烟熏人，请回电 1391234567{n}")
    return message.as_bytes()


async def test_three_mails_whose_matter_is_only_guessed_make_no_hot_spot(filing_desk: TicketDesk) -> None:
    """Three people writing of one guessed matter are three requests until a person says it is one."""
    numbers = [(await IntakeDesk(filing_desk).take_in_email(mail(n)))[0] for n in range(3)]
    tickets = [await filing_desk.store.get(number) for number in numbers]
    assert {(t.intake.category, t.intake.region) for t in tickets} == {("urban.environment", "zj.majiadian")}
    assert not any(t.hot for t in tickets)
