"""The draft pre-filled from what the caller said: every field a guess the agent confirms."""

from hotline.ticketing.guesses import guess
from hotline.workspace.prefill import prefill
from tests.unit.ticketing.gazetteer import PLACES


def test_the_draft_holds_the_callers_words_and_what_they_suggest_each_named_as_a_guess():
    text = "我住在马家店团结路，楼下饭店油烟很大，电话138 0013 8000"
    draft = prefill(text, guess(text, gazetteer=PLACES))
    assert (draft["description"], draft["type"], draft["category"], draft["region"]) == (
        text,
        "complaint",
        "urban.environment",
        "zj.majiadian",
    )
    assert draft["guessed"] == [
        "description",
        "type",
        "category",
        "region",
        "places_mentioned",
        "phones_mentioned",
    ]
    assert prefill("小区门口", guess("小区门口"))["guessed"] == ["description"]


def test_an_emergency_tells_the_agent_and_is_no_field_to_confirm():
    draft = prefill("救命，我爸晕倒了", guess("救命，我爸晕倒了"))
    assert draft["emergency"] == {"number": "120", "words": ["救命", "晕倒"]}
    assert draft["guessed"] == ["description"]
