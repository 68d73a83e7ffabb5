"""Logs the real Telethon (1.36 or 1.45) in to the sandbox, each step with its own DH keys.
usage: drive_telethon.py CONFIG.json (see sandbox_env.py)"""
import asyncio
import sys

from sandbox_env import Env, check, expect_error, guard_loopback, run

guard_loopback()
env = Env(sys.argv[1])

from telethon import TelegramClient, errors, functions  # noqa: E402
from telethon.crypto import rsa  # noqa: E402
from telethon.sessions import StringSession  # noqa: E402

# What docs/sandbox.md tells a Telethon user: trust the sandbox's key, start on its DC 2.
rsa.add_key(env.rsa["pem"], old=False)


def new_client(session=""):
    client = TelegramClient(StringSession(session), env.api_id, env.api_hash)
    if not session:
        client.session.set_dc(2, "127.0.0.1", env.ports[2])
    return client


class connected:
    """A fresh client, connected (`async with TelegramClient` would prompt for a login)."""

    async def __aenter__(self):
        self.client = new_client()
        await self.client.connect()
        return self.client

    async def __aexit__(self, *exc):
        await self.client.disconnect()


async def code_login(client, phone, password=None):
    await client.send_code_request(phone)
    try:
        return await client.sign_in(phone, env.code(phone))
    except errors.SessionPasswordNeededError:
        check(password is not None, "asked for a password it does not have")
        return await client.sign_in(password=password)


async def phone_code():
    acc = env.account("plain")
    async with connected() as c:
        user = await code_login(c, acc["phone"])
        me = await c.get_me()
        check(me.id == user.id and me.first_name == acc["first_name"], f"get_me gave {me}")
        return {"user_id": me.id, "layer_user": type(me).__name__}


async def wrong_code():
    phone = env.account("wrong")["phone"]
    async with connected() as c:
        await c.send_code_request(phone)
        await expect_error(c.sign_in(phone, "12345"), errors.PhoneCodeInvalidError)
        user = await c.sign_in(phone, env.code(phone))
        return {"user_id": user.id}


async def two_fa_hint():
    acc = env.account("twofa")
    async with connected() as c:
        await c.send_code_request(acc["phone"])
        await expect_error(c.sign_in(acc["phone"], env.code(acc["phone"])), errors.SessionPasswordNeededError)
        pwd = await c(functions.account.GetPasswordRequest())
        check(pwd.hint == acc["hint"], f"hint {pwd.hint!r}")
        await expect_error(c.sign_in(password="wrong"), errors.PasswordHashInvalidError)
        user = await c.sign_in(password=acc["password"])
        check((await c.get_me()).id == user.id, "get_me")
        return {"hint": pwd.hint}


async def phone_migrate():
    acc = env.account("migrate")
    async with connected() as c:
        await code_login(c, acc["phone"])
        check(c.session.dc_id == acc["dc"], f"home DC {c.session.dc_id}")
        return {"dc": c.session.dc_id, "user_id": (await c.get_me()).id}


async def qr(scanner, password=None, ignored_ids=None):
    async with connected() as c:
        login = await c.qr_login(ignored_ids=ignored_ids)
        # wait() listens for updateLoginToken; start listening before the scan.
        waiting = asyncio.ensure_future(login.wait(30))
        await asyncio.sleep(0)
        await env.accept_qr(scanner["phone"], login.url)
        try:
            user = await waiting
        except errors.SessionPasswordNeededError:
            check(password is not None, "asked for a password it does not have")
            user = await c.sign_in(password=password)
        me = await c.get_me()
        check(me.id == user.id and me.phone == scanner["phone"].lstrip("+"), f"get_me gave {me}")
        return {"dc": c.session.dc_id, "user_id": me.id}


async def qr_plain():
    return await qr(env.account("qr_scanner"))


async def qr_migrate():
    acc = env.account("qr_migrate")
    out = await qr(acc)
    check(out["dc"] == acc["dc"], f"home DC {out['dc']}")
    return out


async def qr_two_fa():
    acc = env.account("qr_twofa")
    return await qr(acc, password=acc["password"])


async def qr_ignored_ids():
    scanner = env.account("qr_scanner")
    async with connected() as c:
        login = await c.qr_login(ignored_ids=[scanner["id"]])
        try:
            await env.accept_qr(scanner["phone"], login.url)
        except RuntimeError as e:
            check("AUTH_TOKEN_EXCEPTION" in str(e), str(e))
            return {"refused": "AUTH_TOKEN_EXCEPTION"}
        raise AssertionError("an ignored account accepted the token")


async def bot(name):
    acc = env.account(name)
    async with connected() as c:
        await c.sign_in(bot_token=acc["token"])
        me = await c.get_me()
        check(me.bot and me.id == acc["id"], f"get_me gave {me}")
        check(c.session.dc_id == acc["dc"], f"home DC {c.session.dc_id}")
        return {"dc": c.session.dc_id, "user_id": me.id}


async def edit_2fa():
    phone = env.account("edit")["phone"]
    async with connected() as c:
        await code_login(c, phone)
        check(await c.edit_2fa(new_password="first pw", hint="one"), "enable")
        async with connected() as other:
            await code_login(other, phone, password="first pw")
        check(await c.edit_2fa(current_password="first pw", new_password="second pw", hint="two"), "change")
        async with connected() as other:
            await other.send_code_request(phone)
            await expect_error(other.sign_in(phone, env.code(phone)), errors.SessionPasswordNeededError)
            hint = (await other(functions.account.GetPasswordRequest())).hint
            check(hint == "two", f"hint {hint!r}")
            await other.sign_in(password="second pw")
        check(await c.edit_2fa(current_password="second pw", new_password=None), "disable")
        async with connected() as other:
            await code_login(other, phone)
        return {"enabled": True, "changed": True, "disabled": True}


async def log_out():
    acc = env.account("plain")
    c = new_client()
    await c.connect()
    await code_login(c, acc["phone"])
    saved = c.session.save()
    check(await c.log_out(), "log_out")
    again = new_client(saved)
    await again.connect()
    try:
        check(not await again.is_user_authorized(), "still authorized after log_out")
    finally:
        await again.disconnect()
    return {"logged_out": True}


run({
    "phone_code": phone_code,
    "wrong_code": wrong_code,
    "2fa_hint": two_fa_hint,
    "phone_migrate": phone_migrate,
    "qr_plain": qr_plain,
    "qr_migrate": qr_migrate,
    "qr_2fa": qr_two_fa,
    "qr_ignored_ids": qr_ignored_ids,
    "bot": lambda: bot("bot"),
    "bot_user_migrate": lambda: bot("bot_migrate"),
    "edit_2fa": edit_2fa,
    "log_out": log_out,
})
