"""The ACD's state in a real Redis: a controller restart keeps places, pause reasons and callbacks."""

from __future__ import annotations

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import AgentState, Engine, Offer, Priority, QueuedCall, Settings
from hotline.acd.state_store import CALLS_HASH, AcdStateStore

SETTINGS = Settings(wrap_up_seconds=10)


async def test_a_restarted_controller_carries_on_where_the_last_one_stopped(redis) -> None:
    store = AcdStateStore(redis)
    engine = Engine(SETTINGS)
    for account in ("1001", "1002", "1003"):
        engine.add_agent(account, {"general": 5})
        engine.login(account, 0)
    engine.pause("1001", "培训", 1)
    engine.ready("1002", 2)
    engine.call_arrived(QueuedCall("early", "12345", "general", 3))
    engine.call_arrived(QueuedCall("elderly", "12345", "general", 4, priority=Priority.ELDERLY))
    engine.call_arrived(QueuedCall("later", "12345", "general", 5))
    engine.leave_callback("later", "13800138000", 5)
    assert engine.assign(6) == [Offer("elderly", "1002")]
    await store.write(engine.take_changes())
    engine.answered("elderly", "1002", 7)
    await store.write(engine.take_changes())
    assert not await redis.hexists(CALLS_HASH, "elderly"), "an answered call leaves the queue in Redis too"

    restarted = await AcdStateStore(redis).load(SETTINGS)
    assert restarted.to_json() == engine.to_json()
    assert restarted.agents["1001"].break_reason == "培训"
    assert restarted.agents["1002"].state == AgentState.TALKING
    restarted.ready("1003", 8)
    assert restarted.assign(8) == [Offer("early", "1003")]
    restarted.call_ended("1002", 60)
    assert restarted.assign(70) == [Offer("later", "1002", "13800138000")], "the callback kept its place"
    await store.write(restarted.take_changes())
    assert (await AcdStateStore(redis).load(SETTINGS)).to_json() == restarted.to_json()


async def test_an_empty_redis_gives_an_empty_engine_and_no_change_writes_nothing(redis) -> None:
    store = AcdStateStore(redis)
    engine = await store.load(SETTINGS)
    assert engine.agents == {} and engine.calls == {}
    await store.write(engine.take_changes())
    assert await redis.dbsize() == 0


async def test_a_removed_agent_is_gone_from_redis_too(redis) -> None:
    store = AcdStateStore(redis)
    engine = Engine(SETTINGS)
    for account in ("1001", "1002"):
        engine.add_agent(account, {"general": 5})
    await store.write(engine.take_changes())
    engine.remove_agent("1002")
    await store.write(engine.take_changes())
    assert list((await AcdStateStore(redis).load(SETTINGS)).agents) == ["1001"]


async def test_a_redis_that_lost_its_data_gets_the_whole_state_back_within_a_tick(redis) -> None:
    """A Redis restarted without its data once held a fragment, and the next controller brought an agent
    on a 用餐 break back as signed out. Now the next step (a tick, each second) notices and writes it all."""

    async def publish(event: dict) -> None:
        return None

    async def no_callbacks(offer) -> None:
        raise AssertionError("no callback expected")

    dispatcher = Dispatcher(Engine(SETTINGS), AcdStateStore(redis), publish, lambda: 100.0, no_callbacks)
    await dispatcher.restore({"1001": {"general": 5}, "1002": {"general": 5}})
    await dispatcher.step(lambda engine, now: engine.login("1001", now))
    await dispatcher.step(lambda engine, now: engine.pause("1001", "用餐", now))
    waiting = QueuedCall("waiting", "12345", "general", 100.0)
    await dispatcher.step(lambda engine, now: engine.call_arrived(waiting))
    await redis.flushall()  # what a restart without persistence leaves

    await dispatcher.tick()

    kept = await AcdStateStore(redis).load(SETTINGS)
    assert kept.to_json() == dispatcher.engine.to_json()
    assert kept.agents["1001"].break_reason == "用餐" and list(kept.calls) == ["waiting"]
