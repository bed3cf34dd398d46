"""The SQLite database holds callers' personal data: its file is the controller's alone."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hotline.kernel.runtime.db import create_engine
from hotline.schema import bring_up_to_date


async def test_the_database_file_is_private_from_its_first_byte(tmp_path):
    path = tmp_path / "home" / "hotline.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    assert oct(path.stat().st_mode)[-3:] == "600"
    await bring_up_to_date(engine)
    await engine.dispose()
    for file in path.parent.iterdir():
        assert oct(file.stat().st_mode)[-3:] == "600", file.name


async def test_a_failed_statement_does_not_tell_a_callers_data_to_the_log(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
    with pytest.raises(DBAPIError) as failed:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO nowhere VALUES (:phone)"), {"phone": "13812345678"})
    await engine.dispose()
    assert "13812345678" not in str(failed.value)
