"""What the ACD learns from recorded AMI events about agents' phones."""

import pytest

from hotline.acd.engine import PhoneStatus
from hotline.acd.phones import PhoneChange, PhoneNews, phone_news


def is_agent(account: str) -> bool:
    return account in {"1001", "1002"}


@pytest.mark.parametrize(
    ("event", "news"),
    [
        (
            {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "NOT_INUSE"},
            PhoneNews("1001", PhoneChange.STATUS, PhoneStatus.FREE),
        ),
        (
            {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "INUSE"},
            PhoneNews("1001", PhoneChange.STATUS, PhoneStatus.IN_USE),
        ),
        (
            {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "UNAVAILABLE"},
            PhoneNews("1001", PhoneChange.STATUS, PhoneStatus.UNREGISTERED),
        ),
        (
            {"Event": "DeviceStateChange", "Device": "PJSIP/1002", "State": "RINGING"},
            PhoneNews("1002", PhoneChange.STATUS, PhoneStatus.IN_USE),
        ),
        ({"Event": "DeviceStateChange", "Device": "PJSIP/carrier", "State": "INUSE"}, None),
        ({"Event": "DeviceStateChange", "Device": "Local/1001@x", "State": "INUSE"}, None),
        ({"Event": "DeviceStateChange", "Device": "PJSIP/9001", "State": "INUSE"}, None),
        (
            {"Event": "Newstate", "Channel": "PJSIP/1001-0000000a", "ChannelState": "6"},
            PhoneNews("1001", PhoneChange.ANSWERED),
        ),
        ({"Event": "Newstate", "Channel": "PJSIP/1001-0000000a", "ChannelState": "5"}, None),
        (
            {"Event": "Hangup", "Channel": "PJSIP/1002-0000000b", "Cause": "16"},
            PhoneNews("1002", PhoneChange.HUNG_UP),
        ),
        ({"Event": "Hangup", "Channel": "PJSIP/carrier-00000001", "Cause": "16"}, None),
        ({"Event": "Newchannel", "Channel": "PJSIP/1001-0000000c"}, None),
    ],
)
def test_phone_news_from_ami_events(event, news):
    """DeviceStateList answers with the same fields as DeviceStateChange, so reconcile reads it the same."""
    assert phone_news(event, is_agent) == news
