"""What the controller talks to outside the process: Asterisk's AMI, Redis (two pools) and the database."""

from __future__ import annotations

import dataclasses
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.runtime.config import Settings
from hotline.kernel.runtime.db import create_engine

#: The event hub's one reader, plus replays (``?since=``) waiting their turn for the rest.
WEB_REDIS_CONNECTIONS = 4
#: A pooled connection that a Redis restart cut fails its next command: try again on a new one, briefly.
RECONNECTING: dict[str, Any] = {
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
    "retry_on_error": [RedisConnectionError, RedisTimeoutError],
}


@dataclasses.dataclass(frozen=True)
class Adapters:
    """The outside world the controller talks to, none connected yet; a test hands in fakes."""

    ami: AmiClient
    #: The call path's pool (IVR, ACD, AMI, state saving).
    redis: Redis
    #: Web clients' own small pool: no number of open websockets can take a connection a caller needs.
    web_redis: Redis
    engine: AsyncEngine

    @classmethod
    def of(cls, settings: Settings) -> Adapters:
        return cls(
            ami=AmiClient(
                settings.bind_host,
                settings.ami_port,
                settings.ami_user,
                settings.ami_secret,
                action_timeout=settings.ami_action_timeout,
                name="sut",
            ),
            redis=Redis.from_url(settings.effective_redis_url, **RECONNECTING),
            web_redis=Redis(
                connection_pool=BlockingConnectionPool.from_url(
                    settings.effective_redis_url,
                    max_connections=WEB_REDIS_CONNECTIONS,
                    timeout=10,
                    **RECONNECTING,
                )
            ),
            engine=create_engine(settings.effective_database_url),
        )
