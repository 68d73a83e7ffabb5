"""Logs a real Pyrogram-family client (Pyrogram 2.0.106, pyrofork, kurigram) in to the
sandbox, each step with its own DH keys.
usage: drive_pyrogram.py CONFIG.json (see sandbox_env.py)"""
import base64
import sys

from sandbox_env import Env, check, expect_error, guard_loopback, run

guard_loopback()
env = Env(sys.argv[1])

from pyrogram import Client, errors, raw  # noqa: E402
from pyrogram.connection import connection  # noqa: E402
from pyrogram.crypto import rsa  # noqa: E402

# What docs/sandbox.md tells a Pyrogram user: trust the sandbox's RSA key, and send every
# connection to the sandbox DC of the same number.
rsa.server_public_keys[env.rsa["fingerprint"]] = rsa.PublicKey(int(env.rsa["n_hex"], 16), env.rsa["e"])
_connection_init = connection.Connection.__init__


def _to_sandbox(self, *args, **kwargs):
    _connection_init(self, *args, **kwargs)
    if hasattr(self, "server_address"):  # kurigram: the address is given
        self.server_address, self.port = "127.0.0.1", env.ports[self.dc_id]
    else:  # Pyrogram, pyrofork: the address comes from a built-in table
        self.address = ("127.0.0.1", env.ports[self.dc_id])


connection.Connection.__init__ = _to_sandbox
KURIGRAM = "server_address" in _connection_init.__code__.co_varnames


class connected:
    """A fresh in-memory client, connected (not started: no update handling)."""

    async def __aenter__(self):
        self.client = Client("driver", api_id=env.api_id, api_hash=env.api_hash, in_memory=True)
        await self.client.connect()
        return self.client

    async def __aexit__(self, *exc):
        if self.client.is_connected:
            await self.client.disconnect()


async def code_login(app, phone, password=None):
    sent = await app.send_code(phone)
    try:
        return await app.sign_in(phone, sent.phone_code_hash, env.code(phone))
    except errors.SessionPasswordNeeded:
        check(password is not None, "asked for a password it does not have")
        return await app.check_password(password)


async def phone_code():
    acc = env.account("plain")
    async with connected() as app:
        user = await code_login(app, acc["phone"])
        me = await app.get_me()
        check(me.id == user.id and me.first_name == acc["first_name"], f"get_me gave {me}")
        return {"user_id": me.id}


async def wrong_code():
    phone = env.account("wrong")["phone"]
    async with connected() as app:
        sent = await app.send_code(phone)
        await expect_error(app.sign_in(phone, sent.phone_code_hash, "12345"), errors.PhoneCodeInvalid)
        user = await app.sign_in(phone, sent.phone_code_hash, env.code(phone))
        return {"user_id": user.id}


async def two_fa_hint():
    acc = env.account("twofa")
    async with connected() as app:
        sent = await app.send_code(acc["phone"])
        await expect_error(
            app.sign_in(acc["phone"], sent.phone_code_hash, env.code(acc["phone"])), errors.SessionPasswordNeeded
        )
        hint = await app.get_password_hint()
        check(hint == acc["hint"], f"hint {hint!r}")
        await expect_error(app.check_password("wrong"), errors.PasswordHashInvalid)
        user = await app.check_password(acc["password"])
        check((await app.get_me()).id == user.id, "get_me")
        return {"hint": hint}


async def phone_migrate():
    acc = env.account("migrate")
    async with connected() as app:
        await code_login(app, acc["phone"])
        dc = await app.storage.dc_id()
        check(dc == acc["dc"], f"home DC {dc}")
        return {"dc": dc, "user_id": (await app.get_me()).id}


async def switch_dc(app, dc):
    """What each library does on a 303 during login: a new key by DH on the other DC."""
    from pyrogram.session import Auth, Session

    test_mode = await app.storage.test_mode()
    if KURIGRAM:
        option = await app.get_dc_option(dc, ipv6=False)
        await app.session.stop()
        # As kurigram's sign_in_bot does: a new key for the other DC, then the storage.
        app.session = await app.get_session(
            dc_id=dc, server_address=option.ip_address, port=option.port,
            export_authorization=False, temporary=True,
        )
        await app.storage.dc_id(dc)
        await app.storage.server_address(option.ip_address)
        await app.storage.port(option.port)
        await app.storage.auth_key(app.session.auth_key)
        return
    await app.session.stop()
    await app.storage.dc_id(dc)
    await app.storage.auth_key(await Auth(app, dc, test_mode).create())
    app.session = Session(app, dc, await app.storage.auth_key(), test_mode)
    await app.session.start()


async def qr(scanner, password=None):
    export = raw.functions.auth.ExportLoginToken(api_id=env.api_id, api_hash=env.api_hash, except_ids=[])
    async with connected() as app:
        token = await app.invoke(export)
        url = "tg://login?token=" + base64.urlsafe_b64encode(token.token).decode().rstrip("=")
        await env.accept_qr(scanner["phone"], url)
        # accept-qr returns once the scan is recorded: the next export sees it (apps export
        # again when updateLoginToken arrives; Telethon's steps cover the push).
        try:
            result = await app.invoke(export)
            if isinstance(result, raw.types.auth.LoginTokenMigrateTo):
                await switch_dc(app, result.dc_id)
                result = await app.invoke(raw.functions.auth.ImportLoginToken(token=result.token))
            check(isinstance(result, raw.types.auth.LoginTokenSuccess), f"got {result}")
            user_id = result.authorization.user.id
        except errors.SessionPasswordNeeded:
            check(password is not None, "asked for a password it does not have")
            user_id = (await app.check_password(password)).id
        me = await app.get_me()
        check(me.id == user_id and me.phone_number == scanner["phone"].lstrip("+"), f"get_me gave {me}")
        return {"dc": await app.storage.dc_id(), "user_id": me.id}


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


async def qr_except_ids():
    scanner = env.account("qr_scanner")
    async with connected() as app:
        token = await app.invoke(raw.functions.auth.ExportLoginToken(
            api_id=env.api_id, api_hash=env.api_hash, except_ids=[scanner["id"]]))
        url = "tg://login?token=" + base64.urlsafe_b64encode(token.token).decode().rstrip("=")
        try:
            await env.accept_qr(scanner["phone"], url)
        except RuntimeError as e:
            check("AUTH_TOKEN_EXCEPTION" in str(e), str(e))
            return {"refused": "AUTH_TOKEN_EXCEPTION"}
        raise AssertionError("an excepted account accepted the token")


async def bot(name):
    acc = env.account(name)
    async with connected() as app:
        await app.sign_in_bot(acc["token"])
        me = await app.get_me()
        dc = await app.storage.dc_id()
        check(me.is_bot and me.id == acc["id"], f"get_me gave {me}")
        check(dc == acc["dc"], f"home DC {dc}")
        return {"dc": dc, "user_id": me.id}


async def edit_2fa():
    phone = env.account("edit")["phone"]
    async with connected() as app:
        await code_login(app, phone)
        check(await app.enable_cloud_password("first pw", hint="one"), "enable")
        async with connected() as other:
            await code_login(other, phone, password="first pw")
        check(await app.change_cloud_password("first pw", "second pw", new_hint="two"), "change")
        async with connected() as other:
            sent = await other.send_code(phone)
            await expect_error(other.sign_in(phone, sent.phone_code_hash, env.code(phone)), errors.SessionPasswordNeeded)
            hint = await other.get_password_hint()
            check(hint == "two", f"hint {hint!r}")
            await other.check_password("second pw")
        check(await app.remove_cloud_password("second pw"), "disable")
        async with connected() as other:
            await code_login(other, phone)
        return {"enabled": True, "changed": True, "disabled": True}


async def log_out():
    acc = env.account("plain")
    async with connected() as app:
        await code_login(app, acc["phone"])
        # log_out() also stops the client, which start() would have initialized.
        await app.initialize()
        check(await app.log_out(), "log_out")
        return {"logged_out": True}


run({
    "phone_code": phone_code,
    "wrong_code": wrong_code,
    "2fa_hint": two_fa_hint,
    "phone_migrate": phone_migrate,
    "qr_plain": qr_plain,
    "qr_migrate": qr_migrate,
    "qr_2fa": qr_two_fa,
    "qr_ignored_ids": qr_except_ids,
    "bot": lambda: bot("bot"),
    "bot_user_migrate": lambda: bot("bot_migrate"),
    "edit_2fa": edit_2fa,
    "log_out": log_out,
})
