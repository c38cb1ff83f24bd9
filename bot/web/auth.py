"""Who may see what, and how they prove who they are (issue 19).

Operators see the groups `operators[].groups` names (all when empty); a group's owner and
admins see that group only. A person logs in with a one-time link the bot sends by direct
message (`后台`), or a password set with `bot web passwd ID`. Links and sessions are random
tokens of which only a SHA-256 is stored; passwords are hashed with scrypt.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LoadedConfig
from bot.groups import GroupSetup
from bot.web.models import WebAudit, WebLoginLink, WebPassword, WebSession

# scrypt at n=2**14, r=8 (the parameters Python's docs and OWASP's sheet accept): ~50 ms.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                               r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


@dataclass(frozen=True)
class Viewer:
    """A logged-in person and the groups they may see."""

    person_id: str
    name: str
    operator: bool
    group_ids: tuple[str, ...]
    csrf: str = ""

    def may_see(self, group_id: str) -> bool:
        return group_id in self.group_ids


def visible_groups(config: LoadedConfig, person_id: str, via_group: str | None = None
                   ) -> tuple[str, list[GroupSetup]] | None:
    """The person's name and groups, or None for someone with no group to see.

    `via_group`: the group a login link was asked from, where the bot already checked the
    person is an admin (the platform's own admins count there, as for chat commands)."""
    for operator in config.config.operators:
        if operator.id == person_id:
            return operator.name or person_id, config.operated_by(operator)
    groups = [g for g in config.groups.values()
              if person_id == g.owner or person_id in g.admins or g.id == via_group]
    return (person_id, groups) if groups else None


def viewer_for(config: LoadedConfig, person_id: str, via_group: str | None, csrf: str
               ) -> Viewer | None:
    found = visible_groups(config, person_id, via_group)
    if found is None:
        return None
    name, groups = found
    is_operator = person_id in config.operator_ids
    return Viewer(person_id, name, is_operator, tuple(g.id for g in groups), csrf)


async def new_link(session: AsyncSession, person_id: str, group_id: str | None,
                   now: datetime, minutes: float) -> str:
    token = secrets.token_urlsafe(32)
    session.add(WebLoginLink(token_hash=token_hash(token), person_id=person_id,
                             group_id=group_id, created_at=now,
                             expires_at=now + timedelta(minutes=minutes)))
    return token


async def use_link(session: AsyncSession, token: str, now: datetime) -> WebLoginLink | None:
    """The link's row if it is known, unused and not expired; it is used from now on."""
    link = await session.get(WebLoginLink, token_hash(token), with_for_update=True)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    link.used_at = now
    return link


async def set_password(session: AsyncSession, person_id: str, password: str,
                       now: datetime) -> None:
    found = await session.get(WebPassword, person_id)
    hashed = hash_password(password)
    if found is None:
        session.add(WebPassword(person_id=person_id, hash=hashed, set_at=now))
    else:
        found.hash, found.set_at = hashed, now


async def password_ok(session: AsyncSession, person_id: str, password: str) -> bool:
    """scrypt takes tens of milliseconds of CPU: in a thread, so the bot's event loop keeps
    answering the groups while someone logs in (or guesses)."""
    found = await session.get(WebPassword, person_id)
    if found is None:
        await asyncio.to_thread(hash_password, password)  # as slow as a real check
        return False
    return await asyncio.to_thread(check_password, password, found.hash)


async def new_session(session: AsyncSession, person_id: str, group_id: str | None,
                      now: datetime, hours: float) -> str:
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=token_hash(token), person_id=person_id,
                           group_id=group_id, csrf=secrets.token_urlsafe(24), created_at=now,
                           expires_at=now + timedelta(hours=hours)))
    return token


async def find_session(session: AsyncSession, token: str, now: datetime) -> WebSession | None:
    found = await session.get(WebSession, token_hash(token))
    return found if found is not None and found.expires_at > now else None


async def forget_expired(session: AsyncSession, now: datetime) -> None:
    """Expired sessions and old links go (a login is rare enough to do it then)."""
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
    await session.execute(delete(WebLoginLink).where(
        WebLoginLink.expires_at < now - timedelta(days=1)))


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def audit(session: AsyncSession, now: datetime, person_id: str, action: str,
          group_id: str | None = None, detail: str = "", address: str = "") -> None:
    session.add(WebAudit(at=now, person_id=person_id[:128], action=action[:64],
                         group_id=group_id, detail=detail[:2000], address=address[:64]))


class LoginLimiter:
    """Failed logins per (person, address) and per address in a sliding window: past the
    limit every attempt is refused, right or wrong, until the window has passed."""

    def __init__(self, attempts: int, window: timedelta) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] >= self.window:
            found.popleft()
        return found

    def blocked(self, person_id: str, address: str, now: datetime) -> bool:
        return (len(self._recent(f"{person_id}|{address}", now)) >= self.attempts
                or len(self._recent(address, now)) >= self.attempts * 4)

    def failed(self, person_id: str, address: str, now: datetime) -> None:
        self._recent(f"{person_id}|{address}", now).append(now)
        self._recent(address, now).append(now)
        if len(self._failures) > 10_000:  # forget quiet keys so the dict stays bounded
            for key in [k for k, v in self._failures.items() if not v]:
                del self._failures[key]
