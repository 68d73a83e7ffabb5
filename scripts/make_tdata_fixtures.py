"""Writes the tdata fixtures of tests/fixtures/tdata with the real opentele-ng 1.5.0, offline.

usage: <opentele-ng venv>/bin/python scripts/make_tdata_fixtures.py tests/fixtures/tdata

Each fixture is a folder written by opentele's own SaveTData, then read back by opentele to
check it; manifest.json lists what each account must decode to. The auth keys are made-up
test bytes (no real account), and opentele's local keys and salts are random, so running
this again gives different bytes with the same decoded fields.
"""
import hashlib, json, os, shutil, sys

from opentele import td
from opentele.td import Account, TDesktop
from opentele.td.configs import DcId


def key_for(seed: str) -> bytes:
    out = b""
    while len(out) < 256:
        out += hashlib.sha256(f"{seed}:{len(out)}".encode()).digest()
    return out[:256]


FIXTURES = [
    {"folder": "one_account_dc2", "passcode": "", "accounts": [(2, 5123456789, "a")]},
    {"folder": "passcode_dc4", "passcode": "correct horse ☃", "accounts": [(4, 7000000001, "b")]},
    {
        "folder": "two_accounts",
        "passcode": "",
        "accounts": [(2, 1000001, "c"), (5, 6999999999, "d")],
    },
]


def write(root, fx):
    owner = TDesktop()
    for index, (dc, user, seed) in enumerate(fx["accounts"]):
        acc = Account(owner=owner, index=index)
        acc._setMtpAuthorizationCustom(
            DcId(dc), user, [td.AuthKey(key_for(seed), td.AuthKeyType.ReadFromFile, DcId(dc))]
        )
        owner._addSingleAccount(acc)
    path = os.path.join(root, fx["folder"])
    shutil.rmtree(path, ignore_errors=True)
    owner.SaveTData(path, passcode=fx["passcode"] or None)
    return path


def read_back(path, passcode):
    t = TDesktop(path, passcode=passcode or None)
    return [
        {"dc_id": int(a.MainDcId), "user_id": a.UserId, "auth_key_hex": a.authKey.key.hex()}
        for a in t.accounts
    ]


def main(root):
    os.makedirs(root, exist_ok=True)
    entries = []
    for fx in FIXTURES:
        path = write(root, fx)
        expected = [
            {"dc_id": dc, "user_id": user, "auth_key_hex": key_for(seed).hex()}
            for dc, user, seed in fx["accounts"]
        ]
        seen = read_back(path, fx["passcode"])
        assert seen == expected, (fx["folder"], seen)
        entries.append({"folder": fx["folder"], "passcode": fx["passcode"], "accounts": expected})
    manifest = {
        "generated_by": "opentele-ng 1.5.0 (TDesktop.SaveTData), scripts/make_tdata_fixtures.py",
        "note": "local keys and salts are random: compare decoded fields, not bytes; the keys are test bytes",
        "fixtures": entries,
    }
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
