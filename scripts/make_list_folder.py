"""Makes a folder of N Telethon session files for scripts/bench-list.sh: one file written by
Telethon itself (SQLiteSession, DC 2 with a random key), copied N times with its key bytes
changed so every copy holds its own key. Files are 0600.

usage: make_list_folder.py FOLDER N
"""
import os
import sqlite3
import sys

from telethon.crypto import AuthKey
from telethon.sessions import SQLiteSession


def main(folder, count):
    os.makedirs(folder, mode=0o700, exist_ok=True)
    template = os.path.join(folder, ".template")
    session = SQLiteSession(template)
    session.set_dc(2, "149.154.167.51", 443)
    session.auth_key = AuthKey(os.urandom(256))
    session.save()
    session.close()
    data = open(template + ".session", "rb").read()
    conn = sqlite3.connect(template + ".session")
    key = conn.execute("select auth_key from sessions").fetchone()[0]
    conn.close()
    at = data.index(key)
    os.remove(template + ".session")
    for i in range(count):
        copy = bytearray(data)
        copy[at : at + 8] = i.to_bytes(8, "little")
        path = os.path.join(folder, "user%06d.session" % i)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, copy)
        os.close(fd)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
