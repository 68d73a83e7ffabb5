"""The reference lister of issue 14: what a session manager built on Telethon does to list a
folder. Each `*.session` file is opened with Telethon's own SQLiteSession, and its DC, address,
port and key id are read; the rows are printed as JSON. Used by scripts/bench-list.sh.

usage: telethon_lister.py FOLDER
"""
import hashlib
import json
import os
import sys

from telethon.sessions import SQLiteSession


def main(folder):
    rows = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".session"):
            continue
        # SQLiteSession adds ".session" itself.
        session = SQLiteSession(os.path.join(folder, name[: -len(".session")]))
        key = session.auth_key
        rows.append(
            {
                "name": name[: -len(".session")],
                "dc_id": session.dc_id,
                "server_address": session.server_address,
                "port": session.port,
                "auth_key_id_hex": hashlib.sha1(key.key).digest()[-8:].hex() if key else None,
            }
        )
        session.close()
    json.dump(rows, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
