"""The mailbox's count of mails by sender: a day's bound that slides, one sender's flood no other's loss."""

from __future__ import annotations

from ticketing.mailbox import SenderQuota


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_sender_over_the_bound_is_refused_until_its_oldest_mail_is_a_window_old() -> None:
    clock = Seconds()
    quota = SenderQuota(limit=3, window=100.0, clock=clock)
    taken = []
    for _ in range(4):
        taken.append(quota.admit("victim@example.cn"))
        clock.now += 10.0
    assert taken == [True, True, True, False]
    assert quota.admit("citizen@example.cn"), "another sender is not held back"
    clock.now = 1099.0
    assert not quota.admit("victim@example.cn")
    clock.now = 1100.0  # the first mail is a window old
    assert quota.admit("victim@example.cn") and not quota.admit("victim@example.cn")


def test_senders_gone_quiet_are_forgotten_so_a_flood_of_new_names_holds_no_memory() -> None:
    clock = Seconds()
    quota = SenderQuota(limit=1, window=10.0, clock=clock)
    for n in range(5000):
        quota.admit(f"bot{n}@spam.example")
    clock.now += 11.0
    quota.admit("citizen@example.cn")
    assert len(quota._taken) == 1
