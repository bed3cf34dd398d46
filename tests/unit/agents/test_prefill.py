"""The draft pre-filled from what the caller said: every field a guess the agent confirms."""

from agents.prefill import emergency_in, guess_type, prefill


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
