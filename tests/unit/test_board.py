"""Who gets the call: longest idle, never two offers to one agent."""

from acd.routing import AgentView, longest_idle
from agents.board import AgentBoard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ready(board: AgentBoard, account: str) -> None:
    board.apply_device_state({"Device": f"PJSIP/{account}", "State": "NOT_INUSE"})


def test_longest_idle_wins_and_ties_go_to_the_lowest_number():
    assert longest_idle([AgentView("1002", True, 5), AgentView("1001", True, 9)]) == "1002"
    assert longest_idle([AgentView("1002", True, 5), AgentView("1001", True, 5)]) == "1001"
    assert longest_idle([AgentView("1001", False, 0)]) is None


def test_an_offered_agent_is_not_offered_a_second_call():
    clock = Clock()
    board = AgentBoard(["1001", "1002"], clock)
    ready(board, "1001")
    clock.now = 10
    ready(board, "1002")
    assert board.offer("call-a") == "1001"
    assert board.offer("call-b") == "1002"
    assert board.offer("call-c") is None


def test_release_makes_the_agent_the_most_recently_busy():
    clock = Clock()
    board = AgentBoard(["1001", "1002"], clock)
    ready(board, "1001")
    ready(board, "1002")
    assert board.offer("a") == "1001"
    clock.now = 50
    board.release("1001")
    assert board.offer("b") == "1002"


def test_unregistered_and_busy_phones_get_no_calls():
    board = AgentBoard(["1001", "1002"], Clock())
    board.apply_device_state({"Device": "PJSIP/1002", "State": "INUSE"})
    assert board.offer("a") is None
    assert board.offer("a", exclude=["1001"]) is None
