"""Writes tests/fixtures/sessions/pyrofork_dc2_user_v4.session with the real pyrofork 2.3.69,
offline (its own FileStorage creates the schema and stores the fields).

usage: <pyrofork venv>/bin/python scripts/make_pyrofork_fixture.py tests/fixtures/sessions
"""
import asyncio, os, sys
from pathlib import Path

from pyrogram.storage import FileStorage

NAME = "pyrofork_dc2_user_v4"
KEY = bytes(range(256))


async def main(root):
    path = Path(root) / (NAME + ".session")
    if path.exists():
        path.unlink()
    st = FileStorage(NAME, Path(root))
    await st.open()
    await st.dc_id(2)
    await st.api_id(12345)
    await st.test_mode(False)
    await st.auth_key(KEY)
    await st.user_id(5123456789)
    await st.is_bot(False)
    await st.update_peers([(5123456789, 42, "user", "fixture_user", None)])
    await st.update_usernames([(5123456789, "fixture_user")])
    await st.save()
    await st.close()


asyncio.run(main(sys.argv[1]))
