"""Open a Pyrogram SQLite session file with whichever Pyrogram is installed (kurigram,
pyrofork or Pyrogram 2.0), the way its Client does, then store a peer and a username the
library's own way (where a wrong schema fails: "table peers has no column named username").
Prints one JSON line. usage: judge_pyrogram_file.py FILE"""
import asyncio, json, os, shutil, sys, tempfile
from importlib import metadata
from pathlib import Path


def library():
    for name in ("kurigram", "pyrofork", "pyrogram"):
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return "?", "?"


async def judge(item):
    name, _ = library()
    tmp = tempfile.mkdtemp()
    shutil.copy(item, os.path.join(tmp, "x.session"))
    if name == "kurigram":
        from pyrogram.storage import SQLiteStorage
        st = SQLiteStorage("x", workdir=Path(tmp))
    else:
        from pyrogram.storage import FileStorage
        st = FileStorage("x", Path(tmp))
    await st.open()
    key = await st.auth_key()
    seen = {"dc_id": await st.dc_id(), "api_id": await st.api_id(), "user_id": await st.user_id(),
            "is_bot": bool(await st.is_bot()), "test_mode": bool(await st.test_mode()),
            "auth_key_hex": key.hex() if key else None}
    if name == "kurigram":
        await st.update_peers([(777, 1, "user", None)])
        await st.update_usernames([(777, ["judge"])])
    else:
        await st.update_peers([(777, 1, "user", "judge", None)])
        if hasattr(st, "update_usernames"):
            await st.update_usernames([(777, "judge")])
    await st.save()
    await st.close()
    return seen


lib, version = library()
try:
    out = asyncio.run(judge(sys.argv[1]))
except Exception as e:
    out = {"error": f"{type(e).__name__}: {e}"}
out["library"] = f"{lib} {version}"
print(json.dumps(out))
