"""`hotline call` refuses bad input with a message saying what is wrong."""

import pytest

from hotline.lab.caller import CallError, CallPlan


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (CallPlan(caller_number="138-0013"), "--from"),
        (CallPlan(caller_number="13800138000", to="12a45"), "--to"),
        (CallPlan(caller_number="13800138000", dtmf="1x"), "--dtmf"),
        (CallPlan(caller_number="13800138000", say="你好", wav="x.wav"), "not both"),  # type: ignore[arg-type]
        (CallPlan(caller_number="13800138000", hold=0), "--hold"),
        (CallPlan(caller_number="13800138000", caller_name='张"三'), "--name"),
    ],
)
def test_bad_plans_are_refused(plan, message):
    with pytest.raises(CallError, match=message):
        plan.validate()


def test_a_missing_wav_is_named(tmp_path):
    with pytest.raises(CallError, match="no such file"):
        CallPlan(caller_number="1", wav=tmp_path / "missing.wav").validate()


def test_a_good_plan_passes():
    CallPlan(caller_number="13800138000", caller_name="张三", dtmf="1#", say="楼下饭店油烟很大").validate()
