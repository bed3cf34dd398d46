"""What a citizen's words suggest, on every channel: type, category, region, numbers, dates, emergencies."""

import re
from pathlib import Path

import pytest

from hotline.ticketing.guesses import (
    DEFAULT_KEYWORDS,
    Gazetteer,
    KeywordsError,
    emergency_in,
    guess,
    guess_type,
    load_keywords,
    on_intake,
)
from hotline.ticketing.vocabulary import TicketType
from hotline.ticketing.workflow import intake_from_json, intake_json, parse_intake
from tests.unit.ticketing.gazetteer import PLACES, seed_gazetteer


def test_a_complaint_with_a_phone_number_and_a_date():
    text = "我要投诉楼下饭店油烟太大，从3月5号开始一直这样，我的电话是138 0013 8000，或者0717-1234567"
    assert guess(text) == {
        "type": "complaint",
        "phones_mentioned": ["13800138000", "07171234567"],
        "dates_mentioned": ["3月5号"],
    }
    assert guess("打13800138000，就是138-0013-8000")["phones_mentioned"] == ["13800138000"], "each once"


def test_types_from_their_words_and_none_when_nothing_fits():
    assert guess_type("我要举报有人在河边偷排污水") == "report"
    assert guess_type("请问办理居住证需要什么材料") == "consult"
    assert guess_type("小区门口路灯坏了三天") == ""
    assert guess("小区门口路灯坏了三天") == {}


def test_emergency_words_name_the_number_that_answers_them():
    assert emergency_in("楼道里着火了，好多烟，冒烟很大").number == "119"
    fight = emergency_in("门口有人打人，还持刀")
    assert fight is not None and fight.number == "110" and fight.words == ("打人", "持刀")
    assert emergency_in("咨询一下公积金提取") is None
    assert guess("救命，我爸晕倒了")["emergency"] == {"number": "120", "words": ["救命", "晕倒"]}


def test_a_deployments_own_words_replace_the_lists_it_names(tmp_path: Path) -> None:
    path = tmp_path / "words.toml"
    path.write_text('[emergency]\n"119" = ["走水", "着火"]\n"120" = ["晕过去"]\n', encoding="utf-8")
    keywords = load_keywords(path)
    assert emergency_in("厨房走水了", keywords).number == "119"
    assert emergency_in("救命", keywords) is None, "the city's list replaced the built-in one"
    assert keywords.types == DEFAULT_KEYWORDS.types, "a table left out keeps the built-in words"
    assert guess("我要投诉隔壁晕过去了", keywords)["emergency"] == {"number": "120", "words": ["晕过去"]}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[emergency]\n"911" = ["fire"]\n', "emergency.911"),
        ("[types]\ncomplaint = []\n", "types.complaint"),
        ("[types]\nother = ['x']\n", "types.other"),
        ("types = 3\n", "[types]"),
        ("[types\n", "words.toml"),
        ("[categories]\n'urban.roads' = [1]\n", "categories.urban.roads"),
    ],
)
def test_a_bad_keywords_file_is_refused_naming_the_entry(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "words.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeywordsError, match=re.escape(names)):
        load_keywords(path)


def test_the_category_from_the_words_its_name_lists_and_the_region_from_the_places_named():
    found = guess("我住在马家店团结路，楼下饭店油烟很大", gazetteer=PLACES)
    assert found == {
        "type": "complaint",  # 油烟
        "category": "urban.environment",  # 环境保护（油烟、噪声、污染）
        "region": "zj.majiadian",  # 马家店街道, said without 街道
        "places_mentioned": ["马家店"],
    }
    community = guess("马家店街道第一社区的路灯坏了，七星台那边也是", gazetteer=PLACES)
    assert (community["category"], community["region"]) == ("urban.roads", "zj.majiadian.c01"), "the deepest"
    assert community["places_mentioned"] == ["马家店街道第一社区", "七星台"]
    assert guess("董市停水两天了", gazetteer=PLACES)["region"] == "zj.dongshi"
    mayor = guess("我要找董市长反映问题", gazetteer=PLACES)
    assert "region" not in mayor and "category" not in mayor, "董市长 is the mayor Dong, cut as a word"
    assert "category" not in guess("城乡建设管理", gazetteer=PLACES), "a ticket takes a leaf topic"


def test_a_place_one_directory_names_is_no_word_to_another_s():
    """The dictionary is loaded once a process and shared; the places each directory teaches stay its own."""
    said = "我住在马家店团结路，楼下饭店油烟很大"
    assert PLACES.named_places(said) == ["马家店"]
    other = Gazetteer.of([], [{"code": "x.road", "name": "店团结路", "level": 4}])
    assert other.named_places(said) == ["店团结路"]
    assert PLACES.named_places(said) == ["马家店"], "the other directory's road did not cut this one's town"


def test_a_deployments_own_category_words_replace_those_its_name_lists(tmp_path: Path) -> None:
    path = tmp_path / "words.toml"
    path.write_text("[categories]\n'market.price' = ['乱收费', '收费太高']\n", encoding="utf-8")
    places = seed_gazetteer(load_keywords(path).categories)
    assert guess("仙女镇有个菜市场乱收费", gazetteer=places)["category"] == "market.price"
    assert "category" not in guess("价格收费", gazetteer=places), "its name's words are replaced"
    assert guess("停水了", gazetteer=places)["category"] == "utilities.water", "others keep their own"


MAIL = {
    "type": "other",
    "channel": "email",
    "description": "【主题】投诉\n\n马家店街道团结路的饭店天天占道经营，从3月5号开始。请回电 139 1234 5678。",
    "category": "other",
    "region": "zj",
    "caller_email": "zhaoliu@example.cn",
}
LEFT_UNSAID = {"ticket_type", "category", "region", "caller_phone"}


def test_a_mail_left_unclassified_is_classified_from_its_words_each_guess_named():
    intake = parse_intake(MAIL)
    guessed = on_intake(intake, guess(intake.description, gazetteer=PLACES), LEFT_UNSAID)
    assert (guessed.ticket_type, guessed.category, guessed.region) == (
        TicketType.COMPLAINT,
        "urban.management",
        "zj.majiadian",
    )
    assert (guessed.caller_phone, guessed.callback_phone, guessed.phones_mentioned) == (
        "13912345678",
        "13912345678",
        (),
    ), "the number the caller's own was taken from is no mention"
    assert (guessed.places_mentioned, guessed.dates_mentioned, guessed.emergency) == (
        ("马家店街道",),
        ("3月5号",),
        None,
    )
    assert guessed.guessed == (
        "ticket_type",
        "category",
        "region",
        "caller_phone",
        "callback_phone",
        "places_mentioned",
        "dates_mentioned",
    )
    assert intake_from_json(intake_json(guessed)) == guessed, "stored and read back as it was"


def test_the_number_taken_as_the_callers_is_no_mention_the_others_are():
    """Issue 28's review: the first number a message gives became the caller's and stayed a mention too."""
    text = "投诉马家店街道饭店占道。我的电话 139-1234-5678，物业电话 0717 1234567，找过 13912345678 也没用"
    intake = parse_intake({**MAIL, "description": text})
    guessed = on_intake(intake, guess(intake.description, gazetteer=PLACES), LEFT_UNSAID)
    assert (guessed.caller_phone, guessed.phones_mentioned) == ("13912345678", ("07171234567",))
    assert "phones_mentioned" in guessed.guessed


def test_what_the_sender_said_wins_and_their_own_number_is_no_mention():
    said = {**MAIL, "type": "consult", "region": "zj.qixingtai", "caller_phone": "139-1234-5678"}
    intake = parse_intake(said)
    guessed = on_intake(intake, guess(intake.description, gazetteer=PLACES), {"category"})
    assert (guessed.ticket_type, guessed.category, guessed.region) == (
        TicketType.CONSULT,
        "urban.management",
        "zj.qixingtai",
    )
    assert (guessed.caller_phone, guessed.phones_mentioned) == ("139-1234-5678", ())
    assert guessed.guessed == ("category", "places_mentioned", "dates_mentioned")


def test_words_that_suggest_nothing_leave_the_intake_as_it_was():
    intake = parse_intake({**MAIL, "description": "你好"})
    assert on_intake(intake, guess(intake.description, gazetteer=PLACES), LEFT_UNSAID) == intake
    new_fields = ("places_mentioned", "phones_mentioned", "dates_mentioned", "emergency", "guessed")
    old = {key: value for key, value in intake_json(intake).items() if key not in new_fields}
    assert intake_from_json(old) == intake, "a ticket stored before the guesses reads as it did"
