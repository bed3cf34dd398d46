"""The draft pre-filled from what the caller said: every field a guess the agent confirms."""

import json
import re
from pathlib import Path

import pytest

import ticketing
from agents.prefill import (
    DEFAULT_KEYWORDS,
    Gazetteer,
    KeywordsError,
    emergency_in,
    guess_type,
    load_keywords,
    prefill,
)


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
        ("[categories]\n'urban.roads' = [1]\n", "categories.urban.roads"),
    ],
)
def test_a_bad_keywords_file_is_refused_naming_the_entry(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "words.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeywordsError, match=re.escape(names)):
        load_keywords(path)


def seed_gazetteer(own_words=None) -> Gazetteer:
    seed = json.loads((Path(ticketing.__file__).parent / "seed/directory.json").read_text(encoding="utf-8"))
    categories = [{"code": c, "name": n, "parent": p} for c, n, p, _ in seed["categories"]]
    regions = [{"code": c, "name": n, "parent": p, "level": level} for c, n, p, level in seed["regions"]]
    return Gazetteer.of(categories, regions, own_words)


def test_the_category_from_the_words_its_name_lists_and_the_region_from_the_places_named():
    places = seed_gazetteer()
    draft = prefill("我住在马家店团结路，楼下饭店油烟很大", gazetteer=places)
    assert (draft["category"], draft["region"], draft["places_mentioned"]) == (
        "urban.environment",  # 环境保护（油烟、噪声、污染）
        "zj.majiadian",  # 马家店街道, said without 街道
        ["马家店"],
    )
    assert draft["guessed"] == ["description", "type", "category", "region", "places_mentioned"]
    community = prefill("马家店街道第一社区的路灯坏了，七星台那边也是", gazetteer=places)
    assert (community["category"], community["region"]) == ("urban.roads", "zj.majiadian.c01"), "the deepest"
    assert community["places_mentioned"] == ["马家店街道第一社区", "七星台"]
    assert prefill("董市停水两天了", gazetteer=places)["region"] == "zj.dongshi"
    mayor = prefill("我要找董市长反映问题", gazetteer=places)
    assert "region" not in mayor and "category" not in mayor, "董市长 is the mayor Dong, cut as a word"
    assert prefill("城乡建设管理", gazetteer=places).get("category") is None, "a ticket takes a leaf topic"


def test_a_deployments_own_category_words_replace_those_its_name_lists(tmp_path: Path) -> None:
    path = tmp_path / "words.toml"
    path.write_text("[categories]\n'market.price' = ['乱收费', '收费太高']\n", encoding="utf-8")
    places = seed_gazetteer(load_keywords(path).categories)
    assert prefill("仙女镇有个菜市场乱收费", gazetteer=places)["category"] == "market.price"
    assert prefill("价格收费", gazetteer=places).get("category") is None, "its name's words are replaced"
    assert prefill("停水了", gazetteer=places)["category"] == "utilities.water", "others keep their own"
