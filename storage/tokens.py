"""API tokens. Only a SHA-256 of each token is stored; the token itself is shown once."""

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Token

SCOPES = ("ingest", "read", "admin")
PREFIX = "ot_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create_token(name: str, scope: str, now: datetime, *, session: AsyncSession,
                       commit: bool = True) -> str:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(Token(name=name, scope=scope, token_hash=digest(token), created_at=now))
    if commit:
        await session.commit()
    return token


async def find_token(token: str, *, session: AsyncSession) -> Token | None:
    query = select(Token).where(Token.token_hash == digest(token), col(Token.revoked_at).is_(None))
    return (await session.exec(query)).first()


async def count_tokens(*, session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Token))).one()


async def list_tokens(*, session: AsyncSession) -> Sequence[Token]:
    return (await session.exec(select(Token).order_by(col(Token.id)))).all()


async def revoke_token(name: str, now: datetime, *, session: AsyncSession,
                       commit: bool = True) -> int:
    """Revoke every live token with this name; returns how many."""
    tokens = (await session.exec(
        select(Token).where(Token.name == name, col(Token.revoked_at).is_(None))
    )).all()
    for token in tokens:
        token.revoked_at = now
        session.add(token)
    if commit:
        await session.commit()
    return len(tokens)


async def first_admin_token(now: datetime, *, session: AsyncSession) -> str | None:
    """Create the bootstrap admin token when no token exists yet; None otherwise.

    On PostgreSQL the check runs under an advisory lock so that replicas starting together
    print one token between them, not one each."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(BOOTSTRAP_LOCK_ID)))
    if await count_tokens(session=session):
        await session.commit()
        return None
    return await create_token("bootstrap-admin", "admin", now, session=session)


BOOTSTRAP_LOCK_ID = 0x0DE7_7ACF


class TokenCache:
    """Remembers recently checked tokens so the ingest hot path needs no query per request.

    A revoked token keeps working for at most `ttl_seconds` (OPENTRACE_TOKEN_CACHE_SECONDS)."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime], ttl_seconds: float) -> None:
        self._engine = engine
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._identities: dict[str, tuple[TokenIdentity | None, datetime]] = {}

    async def scope_of(self, token: str) -> str | None:
        """The token's scope, or None for an unknown or revoked token."""
        known = await self.identify(token)
        return known.scope if known else None

    async def identify(self, token: str) -> "TokenIdentity | None":
        """The token's scope and name, or None for an unknown or revoked token."""
        key = digest(token)
        now = self._clock()
        cached = self._identities.get(key)
        if cached is not None and now - cached[1] < self._ttl:
            return cached[0]
        async with AsyncSession(self._engine) as session:
            found = await find_token(token, session=session)
        if len(self._identities) > 10_000:
            self._identities.clear()
        identity = TokenIdentity(found.scope, found.name) if found else None
        self._identities[key] = (identity, now)
        return identity


@dataclass(frozen=True)
class TokenIdentity:
    scope: str
    name: str
