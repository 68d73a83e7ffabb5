"""Read a tdata folder with the real opentele-ng and print its accounts as one JSON line.
usage: judge_tdata.py FOLDER [PASSCODE]"""
import json, sys

from opentele.td import TDesktop

try:
    t = TDesktop(sys.argv[1], passcode=(sys.argv[2] if len(sys.argv) > 2 else None))
    out = {"accounts": [{"dc_id": int(a.MainDcId), "user_id": a.UserId,
                         "auth_key_hex": a.authKey.key.hex()} for a in t.accounts]}
except Exception as e:
    out = {"error": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
