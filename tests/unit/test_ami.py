"""The AMI client's fixes for panoramisk's defects, each against a fake that can force the fault."""

from __future__ import annotations

import asyncio

import pytest

from hotline.kernel.asterisk.ami import (
    AmiClient,
    AmiDisconnected,
    AmiLoginFailed,
    AmiTimeout,
    AmiUnavailable,
    encode_action,
)
from hotline.kernel.runtime.backoff import backoff_delays
from tests.fakes.ami_server import FakeAmi


@pytest.fixture
async def fake():
    server = FakeAmi()
    server.port = await server.start()
    yield server
    await server.close()


def client_for(server: FakeAmi, **options) -> AmiClient:
    defaults = {
        "action_timeout": 1.0,
        "ping_interval": 0.2,
        "ping_timeout": 0.2,
        "backoff_initial": 0.05,
        "backoff_max": 0.2,
    }
    return AmiClient("127.0.0.1", server.port, "hotline", server.secret, **{**defaults, **options})


async def until(condition, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_chinese_caller_name_split_across_reads_arrives_whole(fake):
    fake.chunk = 1  # every byte its own write: each 3-byte character is cut
    client = client_for(fake)
    seen = []
    client.on_event(seen.append)
    await client.connect()
    await fake.push_event(Event="Newchannel", CallerIDName="张三客服", CallerIDNum="13800138000")
    await until(lambda: seen)
    assert seen[0]["CallerIDName"] == "张三客服"
    await client.close()


async def test_connect_returns_only_after_login_is_accepted(fake):
    fake.login_delay = 0.3
    client = client_for(fake)
    await client.connect()
    assert client.connected
    assert fake.actions("Login")
    await client.close()


async def test_wrong_secret_raises_login_failed(fake):
    client = AmiClient("127.0.0.1", fake.port, "hotline", "wrong")
    with pytest.raises(AmiLoginFailed, match="Authentication failed"):
        await client.connect()


async def test_nothing_listening_raises_unavailable():
    client = AmiClient("127.0.0.1", 1, "u", "p", connect_timeout=0.5)
    with pytest.raises(AmiUnavailable):
        await client.connect()


async def test_unanswered_action_times_out_and_later_actions_still_work(fake):
    fake.ignore = {"Status"}
    client = client_for(fake, ping_interval=60)
    await client.connect()
    with pytest.raises(AmiTimeout):
        await client.action("Status", timeout=0.2)
    assert (await client.action("Ping")).ok
    await client.close()


async def test_ping_watchdog_drops_a_half_open_connection_and_reconnects(fake):
    client = client_for(fake)
    await client.connect()
    fake.silent = True  # socket stays open, nothing answers
    await until(lambda: not client.connected, timeout=2)
    fake.silent = False
    await until(lambda: client.connected and fake.connections == 2, timeout=3)
    assert (await client.action("Ping")).ok
    await client.close()


async def test_reconnects_after_the_server_hangs_up_and_reruns_on_connect(fake):
    client = client_for(fake, ping_interval=60)
    logins = []

    async def on_connect():
        logins.append(1)

    client.on_connect(on_connect)
    await client.connect()
    fake.kick()
    await until(lambda: len(logins) == 2)
    assert client.connections == 2
    await client.close()


async def test_originate_cut_by_a_disconnect_fails_and_is_never_sent_again(fake):
    fake.drop_on = {"Originate"}
    client = client_for(fake, ping_interval=60)
    await client.connect()
    with pytest.raises(AmiDisconnected):
        await client.originate({"Channel": "PJSIP/12345@sut", "Application": "Wait", "Data": "1"})
    fake.drop_on = set()
    await until(lambda: client.connected and fake.connections == 2)
    await client.action("Ping")
    assert len(fake.actions("Originate")) == 1
    await client.close()


async def test_idempotent_list_cut_by_a_disconnect_is_retried_after_reconnect(fake):
    fake.drop_on = {"CoreShowChannels"}
    fake.list_events = {"CoreShowChannels": [{"Event": "CoreShowChannel", "Channel": "PJSIP/1001-1"}]}
    client = client_for(fake, ping_interval=60)
    await client.connect()

    async def heal():
        await until(lambda: len(fake.actions("CoreShowChannels")) == 1)
        fake.drop_on = set()

    healer = asyncio.create_task(heal())
    reply = await client.action("CoreShowChannels", idempotent=True, timeout=3)
    await healer
    assert [e["Channel"] for e in reply.events] == ["PJSIP/1001-1"]
    await client.close()


async def test_single_and_multi_event_replies_have_the_same_shape(fake):
    fake.list_events = {
        "CoreShowChannels": [{"Event": "CoreShowChannel", "Channel": f"c{i}"} for i in range(3)]
    }
    client = client_for(fake, ping_interval=60)
    await client.connect()
    single = await client.action("Ping")
    listed = await client.action("CoreShowChannels")
    assert single.ok and single.events == []
    assert listed.ok and [e["Channel"] for e in listed.events] == ["c0", "c1", "c2"]
    await client.close()


async def test_originate_waits_for_its_originate_response(fake):
    client = client_for(fake, ping_interval=60)
    await client.connect()
    result = await client.originate({"Channel": "PJSIP/1001", "Application": "Wait", "Data": "1"})
    assert result["Event"] == "OriginateResponse" and result["Response"] == "Success"
    await client.close()


def test_header_injection_is_refused():
    with pytest.raises(ValueError, match="line break"):
        encode_action("Originate", "1", {"CallerID": "x\r\nAction: Command"})


@pytest.mark.parametrize("variable", ["HOTLINE_CALLBACK_OF=1.2,HOTLINE_NEXT=voicemail", "=x", "A B=1", "x"])
def test_an_originate_variable_cannot_set_a_second_variable(variable):
    """Asterisk splits a Variable header at commas: a call id with a comma would set another variable."""
    with pytest.raises(ValueError, match="Variable"):
        encode_action("Originate", "1", {"Variable": [variable]})


def test_plain_originate_variables_pass():
    frame = encode_action("Originate", "1", {"Variable": ["HOTLINE_CALLBACK_OF=1700000000.42", "X_1="]})
    assert b"Variable: HOTLINE_CALLBACK_OF=1700000000.42\r\n" in frame


def test_backoff_grows_to_the_cap_with_jitter():
    delays = backoff_delays(0.1, 1.0, rng=lambda: 0.5)
    assert [round(next(delays), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    low = backoff_delays(1.0, 1.0, rng=lambda: 0.0)
    high = backoff_delays(1.0, 1.0, rng=lambda: 0.999)
    assert next(low) == 0.5 and next(high) > 1.49


async def test_uptime_reads_asterisks_own_count_of_seconds(fake):
    fake.headers["Command"] = {"Output": "System uptime: 42"}
    client = client_for(fake)
    await client.connect()
    assert await client.uptime() == 42
    fake.headers["Command"] = {"Output": "No such command"}
    assert await client.uptime() is None
    await client.close()


def test_setvar_names_its_variable_alone_and_refuses_anything_else():
    frame = encode_action(
        "Setvar", "1", {"Channel": "PJSIP/1001-1", "Variable": "__HOTLINE_LINE", "Value": "1,2"}
    )
    assert b"Variable: __HOTLINE_LINE\r\nValue: 1,2\r\n" in frame
    with pytest.raises(ValueError, match="Variable"):
        encode_action("Setvar", "1", {"Variable": "A=1"})
