"""The draft pre-filled from what the caller said: every field a guess the agent confirms."""

import re
from pathlib import Path

import pytest

from agents.prefill import DEFAULT_KEYWORDS, KeywordsError, emergency_in, guess_type, load_keywords, prefill


def test_a_complaint_with_a_phone_number_and_a_date():
    text = "我要投诉楼下饭店油烟太大，从3月5号开始一直这样，我的电话是138 0013 8000，或者0717-1234567"
    draft = prefill(text)
    assert draft["type"] == "complaint" and draft["description"] == text
    assert draft["phones_mentioned"] == ["13800138000", "07171234567"]
    assert draft["dates_mentioned"] == ["3月5号"]
    assert draft["guessed"] == ["description", "type", "phones_mentioned", "dates_mentioned"]
    assert "emergency" not in draft


def test_types_from_their_words_and_none_when_nothing_fits():
    assert guess_type("我要举报有人在河边偷排污水") == "report"
    assert guess_type("请问办理居住证需要什么材料") == "consult"
    assert guess_type("小区门口路灯坏了三天") == ""
    assert prefill("小区门口路灯坏了三天")["guessed"] == ["description"]


def test_emergency_words_name_the_number_that_answers_them():
    assert emergency_in("楼道里着火了，好多烟，冒烟很大").number == "119"
    fight = emergency_in("门口有人打人，还持刀")
    assert fight is not None and fight.number == "110" and fight.words == ("打人", "持刀")
    assert emergency_in("咨询一下公积金提取") is None
    assert prefill("救命，我爸晕倒了")["emergency"] == {"number": "120", "words": ["救命", "晕倒"]}


def test_a_deployments_own_words_replace_the_lists_it_names(tmp_path: Path) -> None:
    path = tmp_path / "words.toml"
    path.write_text('[emergency]\n"119" = ["走水", "着火"]\n"120" = ["晕过去"]\n', encoding="utf-8")
    keywords = load_keywords(path)
    assert emergency_in("厨房走水了", keywords).number == "119"
    assert emergency_in("救命", keywords) is None, "the city's list replaced the built-in one"
    assert keywords.types == DEFAULT_KEYWORDS.types, "a table left out keeps the built-in words"
    assert prefill("我要投诉隔壁晕过去了", keywords)["emergency"] == {"number": "120", "words": ["晕过去"]}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[emergency]\n"911" = ["fire"]\n', "emergency.911"),
        ("[types]\ncomplaint = []\n", "types.complaint"),
        ("[types]\nother = ['x']\n", "types.other"),
        ("types = 3\n", "[types]"),
        ("[types\n", "words.toml"),
    ],
)
def test_a_bad_keywords_file_is_refused_naming_the_entry(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "words.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeywordsError, match=re.escape(names)):
        load_keywords(path)
