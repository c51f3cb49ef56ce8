"""Accounts and sign-in: users, passwords, tokens and API keys (MLPS 2.0 practice, CECS 5.9.1).

* **Passwords** are hashed with Argon2 (pwdlib) and must follow :data:`PASSWORD_POLICY`:
  at least 10 characters of at least three of the four kinds (lower case, upper case,
  digits, symbols), not the user name and not a common password.
* **Lockout**: 5 failed sign-ins in a row lock the account for 15 minutes (a sign-in to a
  locked account fails without checking the password).
* **Tokens**: a sign-in returns a short-lived JWT access token (15 minutes, HS256, with
  ``sub``, ``role``, ``park``, ``ent``, ``jti`` and the key id ``kid`` in its header) and a
  refresh token (8 hours) kept hashed in the store. Each refresh rotates the refresh
  token; presenting a used one again revokes its whole family (it was stolen).
* **API keys** for service accounts (BMS integrations, collectors, ERP pushes):
  ``ctk_<id>.<secret>``; only the SHA-256 of the secret is kept.

Every sign-in, refusal and account change is written to the audit log.

Examples
--------
>>> from carbontwin.store import Store
>>> store = Store.open("sqlite://")
>>> auth = Authenticator(store, AuthSettings(secret="s" * 32, hasher=fast_hasher()))
>>> _ = auth.add_user("li.na", "park_manager", password="Carbon-Peak-2030", actor="admin")
>>> session = auth.sign_in("li.na", "Carbon-Peak-2030")
>>> auth.principal_from_token(session.access_token).role
'park_manager'
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import string
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.runtime.access import PERMISSIONS, ROLES, SCOPED_ROLES, Principal
from carbontwin.store import NotFoundError, Store

__all__ = [
    "PASSWORD_POLICY",
    "AuthError",
    "AuthSettings",
    "Authenticator",
    "Session",
    "check_password",
    "check_scope",
    "fast_hasher",
    "load_secret",
]

PASSWORD_POLICY = (
    "at least 10 characters, of at least three kinds among lower case, upper case, digits "
    "and symbols; not the user name, not a common password"
)

#: Passwords refused whatever their shape (the most common ones that pass the shape rule).
_COMMON = frozenset(
    {
        "password123!",
        "password@123",
        "p@ssw0rd123",
        "qwerty123!",
        "admin@12345",
        "welcome@123",
        "1qaz@wsx3edc",
        "abc@1234567",
        "changeme123!",
        "iloveyou123!",
    }
)

_API_KEY_PREFIX = "ctk_"


class AuthError(PermissionError):
    """Sign-in or a credential was refused; ``code`` says why, the message what to do.

    Codes: ``bad_credentials``, ``locked``, ``disabled``, ``token_expired``,
    ``token_invalid``, ``refresh_reused``, ``bad_api_key``, ``weak_password``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def fast_hasher() -> PasswordHash:
    """Return an Argon2 hasher with small costs, for tests and demos only."""
    return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


def load_secret(home: str | Path | None = None) -> str:
    """Return the token-signing secret: ``$CARBONTWIN_SECRET_KEY``, else the home's key file.

    The file (``<home>/secret.key``, mode 600) is created with 32 random bytes on first use,
    so tokens survive a restart; set the variable to share one key between servers.
    """
    env = os.environ.get("CARBONTWIN_SECRET_KEY")
    if env:
        if len(env) < 32:
            msg = "CARBONTWIN_SECRET_KEY must be at least 32 characters; use a random key"
            raise ValidationError(msg)
        return env
    base = Path(home or os.environ.get("CARBONTWIN_HOME") or "~/.carbontwin").expanduser()
    path = base / "secret.key"
    if not path.exists():
        base.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def check_scope(role: str, enterprise: str | None, *, field: str = "enterprise") -> None:
    """Raise ``ValidationError`` unless ``enterprise`` fits ``role``.

    Emission units need the enterprise they report for; no other role has one. ``field``
    is how the caller names the setting in the message (``--enterprise``, ``'enterprise'``).
    """
    if role in SCOPED_ROLES and not enterprise:
        msg = f"a user of role {role!r} needs {field}, the enterprise it reports for"
        raise ValidationError(msg)
    if role not in SCOPED_ROLES and enterprise:
        msg = f"only emission units are tied to an enterprise, not a {role}; clear {field}"
        raise ValidationError(msg)


def check_password(password: str, username: str = "") -> None:
    """Raise :class:`AuthError` (``weak_password``) unless ``password`` meets the policy."""
    kinds = sum(
        any(c in chars for c in password)
        for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not c.isalnum() for c in password)
    problems = []
    if len(password) < 10:
        problems.append(f"it has {len(password)} characters")
    if kinds < 3:
        problems.append(f"it mixes {kinds} kind(s) of character")
    if username and username.lower() in password.lower():
        problems.append("it contains the user name")
    if password.lower() in _COMMON:
        problems.append("it is a common password")
    if problems:
        msg = f"the password is too weak ({'; '.join(problems)}); use {PASSWORD_POLICY}"
        raise AuthError(code="weak_password", message=msg)


@dataclass(frozen=True)
class AuthSettings:
    """How sign-in works; the defaults follow MLPS 2.0 level 2–3 practice.

    Parameters
    ----------
    secret : str
        The HS256 key that signs access tokens (:func:`load_secret`).
    access_ttl, refresh_ttl : datetime.timedelta
        Lifetimes of access and refresh tokens.
    max_failures : int
        Failed sign-ins in a row that lock an account.
    lockout : datetime.timedelta
        How long a locked account stays locked.
    hasher : PasswordHash, optional
        The password hasher; Argon2 with pwdlib's recommended costs by default.
    user_cache_s : float
        How long a user's record is trusted between checks (disabling a user takes
        effect within this time).
    """

    secret: str
    access_ttl: dt.timedelta = dt.timedelta(minutes=15)
    refresh_ttl: dt.timedelta = dt.timedelta(hours=8)
    max_failures: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    hasher: PasswordHash = field(default_factory=PasswordHash.recommended)
    user_cache_s: float = 5.0

    @property
    def kid(self) -> str:
        """The key id written in each token's header (a digest of the secret)."""
        return hashlib.sha256(self.secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Session:
    """What a sign-in or refresh returns."""

    access_token: str
    refresh_token: str
    expires_in: int
    principal: Principal


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _principal(user: dict[str, Any]) -> Principal:
    return Principal(
        name=user["username"],
        role=user["role"],
        park_id=user["park_id"],
        enterprise=user["enterprise"],
        kind=user["kind"],
    )


class Authenticator:
    """Users, sign-in, tokens and API keys over one store.

    Parameters
    ----------
    store : Store
        Where users, keys and refresh tokens are kept.
    settings : AuthSettings
        Keys, lifetimes, lockout and hashing.
    """

    def __init__(self, store: Store, settings: AuthSettings) -> None:
        self.store = store
        self.settings = settings
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()
        # A hash to check against when the user does not exist, so timing says nothing.
        self._dummy = settings.hasher.hash(secrets.token_hex(16))

    # Users -----------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        role: str,
        *,
        actor: str,
        password: str | None = None,
        kind: str = "person",
        park_id: str | None = None,
        enterprise: str | None = None,
        display_name: str = "",
    ) -> dict[str, Any]:
        """Add a person (with ``password``) or a service account (without one).

        Raises
        ------
        ValidationError
            If the role is unknown, an emission unit has no enterprise, a person has no
            password, or a service account has one.
        AuthError
            If the password breaks the policy (``weak_password``).
        """
        _check_name(username)
        if role not in PERMISSIONS:
            msg = f"role {role!r} is not known; roles: {', '.join(ROLES)}"
            raise ValidationError(msg)
        check_scope(role, enterprise, field="--enterprise")
        if kind == "person" and not password:
            msg = "a person needs a password; service accounts use API keys instead"
            raise ValidationError(msg)
        if kind == "service" and password:
            msg = "a service account signs in with an API key, not a password"
            raise ValidationError(msg)
        hashed = None
        if password:
            check_password(password, username)
            hashed = self.settings.hasher.hash(password)
        return self.store.add_user(
            username,
            role,
            actor=actor,
            kind=kind,
            park_id=park_id,
            enterprise=enterprise,
            display_name=display_name,
            password_hash=hashed,
        )

    def set_disabled(self, username: str, disabled: bool, *, actor: str) -> dict[str, Any]:
        """Disable (or enable again) a user; disabling also revokes its refresh tokens."""
        user = self.store.update_user(username, actor=actor, disabled=disabled)
        if disabled:
            self.store.revoke_refresh_tokens(username=username)
        self.forget(username)
        return user

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        """Set a new password (checked against the policy); unlocks the account."""
        check_password(password, username)
        self.store.update_user(
            username,
            actor=actor,
            password_hash=self.settings.hasher.hash(password),
            password_changed_at=dt.datetime.now(dt.UTC),
            failed_logins=0,
            locked_until=None,
        )
        self.store.revoke_refresh_tokens(username=username)
        self.forget(username)

    # Sign-in ---------------------------------------------------------------------------
    def sign_in(self, username: str, password: str, *, client: str = "") -> Session:
        """Check a user's password and open a session; audited (``auth.sign_in``).

        Raises
        ------
        AuthError
            ``bad_credentials`` (unknown user or wrong password — the message does not
            say which), ``locked`` or ``disabled``.
        """
        user = self.store.user(username)
        now = dt.datetime.now(dt.UTC)
        if user is None or user["kind"] != "person" or not user["password_hash"]:
            self.settings.hasher.verify(password, self._dummy)
            self._refuse(username, "bad_credentials", client)
        assert user is not None
        if user["disabled"]:
            self._refuse(username, "disabled", client)
        if user["locked_until"] is not None and user["locked_until"] > now:
            self._refuse(username, "locked", client, until=user["locked_until"])
        ok = self.settings.hasher.verify(password, user["password_hash"])
        after = self.store.record_sign_in(
            username, ok, max_failures=self.settings.max_failures, lockout=self.settings.lockout
        )
        if not ok:
            locked = after is not None and after["locked_until"] is not None
            self._refuse(
                username,
                "bad_credentials",
                client,
                locked_now=locked,
                until=after["locked_until"] if locked and after else None,
            )
        self.store.audit(username, "auth.sign_in", f"user:{username}", client=client)
        return self._open(_principal(user))

    def _refuse(self, username: str, code: str, client: str, **detail: Any) -> None:
        self.store.audit(
            username or "anonymous",
            "auth.sign_in",
            f"user:{username}",
            {"code": code, **detail},
            outcome="denied",
            client=client,
        )
        until = detail.get("until")
        messages = {
            "bad_credentials": "the user name or password is wrong",
            "disabled": "the account is disabled; ask the platform operator",
            "locked": (
                f"the account is locked after {self.settings.max_failures} failed sign-ins"
                + (f" until {until:%H:%M} UTC" if until else "")
                + "; wait, or ask the platform operator to reset the password"
            ),
        }
        message = messages[code]
        if detail.get("locked_now"):
            message += (
                f"; after {self.settings.max_failures} failed attempts the account is locked "
                f"for {int(self.settings.lockout.total_seconds() // 60)} minutes"
            )
        raise AuthError(code=code, message=message)

    def _open(
        self, principal: Principal, *, family: str | None = None, replaces: str | None = None
    ) -> Session:
        token_id = uuid.uuid4().hex
        secret = secrets.token_urlsafe(32)
        self.store.add_refresh_token(
            principal.name,
            token_id,
            family or token_id,
            _digest(secret),
            dt.datetime.now(dt.UTC) + self.settings.refresh_ttl,
            replaces=replaces,
        )
        return Session(
            access_token=self.access_token(principal),
            refresh_token=f"{token_id}.{secret}",
            expires_in=int(self.settings.access_ttl.total_seconds()),
            principal=principal,
        )

    def access_token(self, principal: Principal) -> str:
        """Return a signed access token for ``principal``."""
        now = int(time.time())
        claims = {
            "sub": principal.name,
            "role": principal.role,
            "park": principal.park_id,
            "ent": principal.enterprise,
            "kind": principal.kind,
            "iat": now,
            "exp": now + int(self.settings.access_ttl.total_seconds()),
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        return jwt.encode(
            claims, self.settings.secret, algorithm="HS256", headers={"kid": self.settings.kid}
        )

    def refresh(self, refresh_token: str, *, client: str = "") -> Session:
        """Exchange a refresh token for a new session (the old token is revoked).

        Raises
        ------
        AuthError
            ``token_invalid``, ``token_expired``, ``refresh_reused`` (its family is
            revoked) or ``disabled``.
        """
        token_id, _, secret = refresh_token.partition(".")
        record = self.store.refresh_token(token_id) if token_id and secret else None
        if record is None or not hmac.compare_digest(record["token_hash"], _digest(secret)):
            raise AuthError(
                code="token_invalid", message="the refresh token is not valid; sign in again"
            )
        if record["revoked_at"] is not None:
            self.store.revoke_refresh_tokens(family=record["family"])
            self.store.audit(
                record["username"],
                "auth.refresh",
                f"user:{record['username']}",
                {"code": "refresh_reused"},
                outcome="denied",
                client=client,
            )
            msg = "the refresh token was used already; every session of it is closed, sign in"
            raise AuthError(code="refresh_reused", message=msg)
        if record["expires_at"] <= dt.datetime.now(dt.UTC):
            raise AuthError(
                code="token_expired", message="the refresh token has expired; sign in again"
            )
        user = self.store.user(record["username"])
        if user is None or user["disabled"]:
            raise AuthError(
                code="disabled", message="the account is disabled; ask the platform operator"
            )
        try:
            return self._open(_principal(user), family=record["family"], replaces=token_id)
        except ConsistencyError:
            # Two refreshes raced with one token: treat it as reuse.
            self.store.revoke_refresh_tokens(family=record["family"])
            raise AuthError(
                code="refresh_reused", message="the refresh token was used already; sign in"
            ) from None

    def sign_out(self, refresh_token: str) -> None:
        """Close a session: revoke its refresh token family."""
        token_id, _, _ = refresh_token.partition(".")
        record = self.store.refresh_token(token_id) if token_id else None
        if record is not None:
            self.store.revoke_refresh_tokens(family=record["family"])
            self.store.audit(record["username"], "auth.sign_out", f"user:{record['username']}")

    # Requests --------------------------------------------------------------------------
    def principal_from_token(self, token: str) -> Principal:
        """Return who an access token speaks for, checked against the user's record.

        Raises
        ------
        AuthError
            ``token_expired``, ``token_invalid`` or ``disabled``.
        """
        try:
            claims = jwt.decode(
                token,
                self.settings.secret,
                algorithms=["HS256"],
                options={"require": ["exp", "sub", "role", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(
                code="token_expired", message="the access token has expired; refresh it"
            ) from None
        except jwt.InvalidTokenError:
            raise AuthError(
                code="token_invalid", message="the access token is not valid; sign in"
            ) from None
        if claims.get("typ") != "access":
            raise AuthError(code="token_invalid", message="this is not an access token; sign in")
        user = self._user(claims["sub"])
        if user is None or user["disabled"]:
            raise AuthError(
                code="disabled", message="the account is disabled or removed; ask the operator"
            )
        changed = user["password_changed_at"]
        if changed is not None and int(claims.get("iat", 0)) < int(changed.timestamp()):
            raise AuthError(
                code="token_invalid",
                message="the password was changed after this token was issued; sign in again",
            )
        # The stored record, not the token, decides role and scope: a change takes effect
        # within the cache time even for tokens issued before it.
        return _principal(user)

    def principal_from_api_key(self, key: str) -> Principal:
        """Return the service account an API key belongs to.

        Raises
        ------
        AuthError
            ``bad_api_key`` (unknown, revoked or expired) or ``disabled``.
        """
        key_id, secret = _split_key(key)
        record = self._key(key_id) if key_id else None
        now = dt.datetime.now(dt.UTC)
        if (
            record is None
            or not hmac.compare_digest(record["key_hash"], _digest(secret))
            or record["revoked_at"] is not None
            or (record["expires_at"] is not None and record["expires_at"] <= now)
        ):
            msg = "the API key is not valid (unknown, revoked or expired); ask the operator"
            raise AuthError(code="bad_api_key", message=msg)
        user = self._user(record["username"])
        if user is None or user["disabled"]:
            raise AuthError(
                code="disabled", message="the service account is disabled; ask the operator"
            )
        return _principal(user)

    def issue_api_key(
        self, username: str, *, actor: str, label: str = "", days: int | None = None
    ) -> str:
        """Create an API key for a service account; the key is shown only this once."""
        user = self.store.user(username)
        if user is None:
            msg = f"there is no user named {username!r}"
            raise NotFoundError(msg)
        if user["kind"] != "service":
            msg = f"{username!r} is a person; API keys are for service accounts"
            raise ValidationError(msg)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=days) if days else None
        self.store.add_api_key(
            username, key_id, _digest(secret), actor=actor, label=label, expires_at=expires
        )
        return f"{_API_KEY_PREFIX}{key_id}.{secret}"

    def revoke_api_key(self, key_id: str, *, actor: str) -> None:
        """Revoke an API key by its id (the part between ``ctk_`` and the dot)."""
        self.store.revoke_api_key(key_id, actor=actor)
        with self._lock:
            self._cache.pop(f"key:{key_id}", None)

    # Caching ---------------------------------------------------------------------------
    def _cached(self, key: str, load: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.settings.user_cache_s:
            return hit[1]
        value = load()
        with self._lock:
            self._cache[key] = (now, value)
        return value

    def _user(self, username: str) -> dict[str, Any] | None:
        return self._cached(f"user:{username}", lambda: self.store.user(username))

    def _key(self, key_id: str) -> dict[str, Any] | None:
        return self._cached(f"key:{key_id}", lambda: self.store.api_key(key_id))

    def forget(self, username: str) -> None:
        """Drop a user's cached record (after a change made elsewhere)."""
        with self._lock:
            self._cache.pop(f"user:{username}", None)


def _split_key(key: str) -> tuple[str, str]:
    if not key.startswith(_API_KEY_PREFIX):
        return "", ""
    key_id, _, secret = key[len(_API_KEY_PREFIX) :].partition(".")
    return (key_id, secret) if secret else ("", "")


def _check_name(username: str) -> None:
    allowed = set(string.ascii_letters + string.digits + "._-@")
    if not 2 <= len(username) <= 64 or not set(username) <= allowed:
        msg = f"user name {username!r} must be 2 to 64 characters of letters, digits and . _ - @"
        raise ValidationError(msg)
