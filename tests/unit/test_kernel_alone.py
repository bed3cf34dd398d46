"""The kernel works without any capability loaded: a script that only adds API users (as a wallboard's
provisioning would) runs in a process where no capability was ever imported."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from hotline.kernel.runtime.db import create_engine
from hotline.schema import bring_up_to_date

ADD_USERS = """
import asyncio, sys
from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.users import Users
from hotline.kernel.runtime.db import create_engine

async def main(url):
    engine = create_engine(url)
    users = Users(engine)
    assert await users.add("值班长", "supervisor")
    try:
        await users.add("城管", "unit", "no-such-unit")
    except ApiError as error:
        print(error.error_id)
    await engine.dispose()
    capabilities = {"acd", "agents", "ivr", "ticketing", "trunks", "recordings"}
    print(sorted({name.split(".")[0] for name in sys.modules} & capabilities))

asyncio.run(main(sys.argv[1]))
"""


def test_api_users_need_no_capability_loaded(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"

    async def migrate() -> None:
        engine = create_engine(url)
        await bring_up_to_date(engine)
        await engine.dispose()

    asyncio.run(migrate())
    done = subprocess.run([sys.executable, "-c", ADD_USERS, url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["unknown-unit", "[]"]
