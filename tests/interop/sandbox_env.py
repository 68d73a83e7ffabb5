"""Shared by the drivers that log real clients in to `tgsess sandbox serve`.

A driver gets one argument, a JSON file written by tests/sandbox_clients.rs:
{"info": <tgsess sandbox info --json>, "tgsess": BIN, "state": DIR, "api_id": N,
 "api_hash": S, "accounts": {...}}. It prints one JSON line per step:
{"step": NAME, "ok": true|false, "detail": ...}.
"""
import asyncio
import json
import subprocess
import sys
import traceback

LOOPBACK = ("127.0.0.1", "::1")


def guard_loopback():
    """Refuses every connect outside 127.0.0.1 / ::1, whatever the client library tries."""

    def hook(event, args):
        if event == "socket.connect":
            address = args[1]
            host = address[0] if isinstance(address, tuple) else address
            if host not in LOOPBACK:
                raise ConnectionRefusedError(f"driver: refusing to connect to {address}")

    sys.addaudithook(hook)


class Env:
    def __init__(self, path):
        with open(path) as f:
            cfg = json.load(f)
        self.ports = {dc["id"]: dc["port"] for dc in cfg["info"]["dcs"]}
        self.rsa = cfg["info"]["rsa"]
        self.tgsess = cfg["tgsess"]
        self.state = cfg["state"]
        self.api_id = cfg["api_id"]
        self.api_hash = cfg["api_hash"]
        self.accounts = cfg["accounts"]

    def account(self, name):
        return self.accounts[name]

    @staticmethod
    def code(phone):
        """Test numbers +99966X... get X five times as their code."""
        return phone.lstrip("+")[5] * 5

    async def accept_qr(self, phone, url):
        """Another device of `phone` scans the code (`tgsess sandbox accept-qr`)."""
        proc = await asyncio.create_subprocess_exec(
            self.tgsess, "sandbox", "accept-qr", "--state", self.state, "--phone", phone, url,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"accept-qr: {err.decode().strip()}")


def check(condition, what):
    if not condition:
        raise AssertionError(what)


async def expect_error(awaitable, error_type):
    try:
        await awaitable
    except error_type as e:
        return type(e).__name__
    raise AssertionError(f"expected {error_type.__name__}")


# Every driver runs these steps, in this order (tests/sandbox_clients.rs expects each).
STEPS = [
    "phone_code", "wrong_code", "2fa_hint", "phone_migrate",
    "qr_plain", "qr_migrate", "qr_2fa", "qr_ignored_ids",
    "bot", "bot_user_migrate", "edit_2fa", "log_out",
]


def run(steps, timeout=60):
    """Runs each step of STEPS (`steps` maps its name to a coroutine function) on its own,
    reporting every one."""

    async def main():
        for name in STEPS:
            try:
                detail = await asyncio.wait_for(steps[name](), timeout)
                line = {"step": name, "ok": True, "detail": detail}
            except BaseException as e:  # noqa: BLE001 (every failure is reported)
                if isinstance(e, KeyboardInterrupt):
                    raise
                trace = traceback.format_exc().splitlines()[-6:]
                line = {"step": name, "ok": False, "detail": f"{type(e).__name__}: {e}", "trace": trace}
            print(json.dumps(line, default=str), flush=True)

    asyncio.run(main())
