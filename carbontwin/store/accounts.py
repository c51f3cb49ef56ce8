"""Accounts and setpoints in the store: users, API keys, refresh tokens, setpoint commands.

:class:`AccountsMixin` is part of :class:`~carbontwin.store.Store`; its methods keep the
records and audit every change. Hashing passwords and keys, issuing tokens and deciding
who may do what live in :mod:`carbontwin.runtime.auth` and
:mod:`carbontwin.runtime.access`: the store only keeps what they decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.store.errors import NotFoundError
from carbontwin.store.models import ApiKeyRow, RefreshTokenRow, SetpointRow, UserRow
from carbontwin.store.parts import StorePart, columns, newest_first

__all__ = ["USER_FIELDS", "AccountsMixin"]

#: The user fields :meth:`AccountsMixin.update_user` may change.
USER_FIELDS = frozenset(
    {
        "display_name",
        "role",
        "park_id",
        "enterprise",
        "password_hash",
        "disabled",
        "failed_logins",
        "locked_until",
        "password_changed_at",
        "last_login_at",
    }
)

#: Fields that change at every sign-in; their changes are not audited one by one (the
#: sign-in itself is).
_SIGN_IN_FIELDS = frozenset({"failed_logins", "locked_until", "last_login_at"})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AccountsMixin(StorePart):
    """Users, API keys, refresh tokens and setpoints (part of :class:`Store`)."""

    # Users -----------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        role: str,
        *,
        actor: str,
        kind: str = "person",
        park_id: str | None = None,
        enterprise: str | None = None,
        display_name: str = "",
        password_hash: str | None = None,
    ) -> dict[str, Any]:
        """Add a user (a person or a service account) and audit it (``users.add``).

        Returns
        -------
        dict
            The stored user, every column of :class:`~carbontwin.store.models.UserRow`.

        Raises
        ------
        ConsistencyError
            If a user of this name exists.
        """
        if kind not in ("person", "service"):
            msg = f"kind(={kind!r}) must be 'person' or 'service'"
            raise ValidationError(msg)
        now = _now()
        with self._writing(f"adding user {username!r}") as session:
            if session.scalar(sa.select(UserRow.id).where(UserRow.username == username)):
                msg = f"a user named {username!r} exists already; choose another name"
                raise ConsistencyError(msg)
            row = UserRow(
                username=username,
                display_name=display_name,
                kind=kind,
                role=role,
                park_id=park_id,
                enterprise=enterprise,
                password_hash=password_hash,
                disabled=False,
                failed_logins=0,
                password_changed_at=now if password_hash else None,
                created_at=now,
                created_by=actor,
            )
            session.add(row)
            session.flush()
            self._append_audit(
                session,
                actor,
                "users.add",
                f"user:{username}",
                {"role": role, "kind": kind, "park_id": park_id, "enterprise": enterprise},
            )
            return columns(row)

    def user(self, username: str) -> dict[str, Any] | None:
        """Return the user of this name, or ``None``."""
        with self._reading(f"reading user {username!r}") as session:
            row = session.scalar(sa.select(UserRow).where(UserRow.username == username))
            return columns(row) if row else None

    def users(self) -> list[dict[str, Any]]:
        """Return every user, by name."""
        with self._reading("reading users") as session:
            return [
                columns(r) for r in session.scalars(sa.select(UserRow).order_by(UserRow.username))
            ]

    def update_user(
        self, username: str, *, actor: str, audit: bool = True, **changes: Any
    ) -> dict[str, Any]:
        """Change fields of a user (see :data:`USER_FIELDS`); audited as ``users.update``.

        Sign-in bookkeeping (failed attempts, lockout, last sign-in) is not audited here,
        nor is anything when ``audit`` is false: the caller audits the sign-in itself.

        Raises
        ------
        NotFoundError
            If there is no such user.
        """
        unknown = set(changes) - USER_FIELDS
        if unknown:
            msg = f"cannot change {sorted(unknown)} of a user; changeable: {sorted(USER_FIELDS)}"
            raise ValidationError(msg)
        with self._writing(f"updating user {username!r}") as session:
            row = session.scalar(sa.select(UserRow).where(UserRow.username == username))
            if row is None:
                msg = f"there is no user named {username!r}; list them with 'carbontwin users list'"
                raise NotFoundError(msg)
            for name, value in changes.items():
                setattr(row, name, value)
            shown = {
                k: ("(changed)" if k == "password_hash" else v)
                for k, v in changes.items()
                if k not in _SIGN_IN_FIELDS
            }
            if audit and shown:
                self._append_audit(session, actor, "users.update", f"user:{username}", shown)
            session.flush()
            return columns(row)

    def record_sign_in(
        self, username: str, ok: bool, *, max_failures: int, lockout: dt.timedelta
    ) -> dict[str, Any] | None:
        """Count a sign-in attempt atomically; lock the account after ``max_failures``.

        A success resets the count and sets ``last_login_at``; a failure increments it and,
        at ``max_failures``, sets ``locked_until`` to now + ``lockout`` (and restarts the
        count). Returns the user after the change, ``None`` if there is no such user.
        """
        now = _now()
        with self._writing(f"recording a sign-in of {username!r}") as session:
            row = session.scalar(sa.select(UserRow).where(UserRow.username == username))
            if row is None:
                return None
            if ok:
                row.failed_logins = 0
                row.locked_until = None
                row.last_login_at = now
            else:
                row.failed_logins += 1
                if row.failed_logins >= max_failures:
                    row.locked_until = now + lockout
                    row.failed_logins = 0
            session.flush()
            return columns(row)

    # API keys --------------------------------------------------------------------------
    def add_api_key(
        self,
        username: str,
        key_id: str,
        key_hash: str,
        *,
        actor: str,
        label: str = "",
        expires_at: dt.datetime | None = None,
    ) -> None:
        """Keep an API key's hash for a user (audited as ``api_keys.add``)."""
        with self._writing(f"adding an API key for {username!r}") as session:
            user_id = session.scalar(sa.select(UserRow.id).where(UserRow.username == username))
            if user_id is None:
                msg = f"there is no user named {username!r} to give an API key"
                raise NotFoundError(msg)
            session.add(
                ApiKeyRow(
                    id=key_id,
                    user_id=user_id,
                    key_hash=key_hash,
                    label=label,
                    created_at=_now(),
                    expires_at=expires_at,
                )
            )
            self._append_audit(
                session, actor, "api_keys.add", f"user:{username}", {"key": key_id, "label": label}
            )

    def api_key(self, key_id: str) -> dict[str, Any] | None:
        """Return an API key's record with its user's name (``username``), or ``None``."""
        query = (
            sa.select(ApiKeyRow, UserRow.username)
            .join(UserRow, UserRow.id == ApiKeyRow.user_id)
            .where(ApiKeyRow.id == key_id)
        )
        with self._reading("reading an API key") as session:
            found = session.execute(query).first()
            if found is None:
                return None
            key, username = found
            return {
                "id": key.id,
                "username": username,
                "key_hash": key.key_hash,
                "label": key.label,
                "created_at": key.created_at,
                "expires_at": key.expires_at,
                "revoked_at": key.revoked_at,
            }

    def api_keys(self, username: str) -> list[dict[str, Any]]:
        """Return a user's API keys (without their hashes), oldest first."""
        query = (
            sa.select(ApiKeyRow)
            .join(UserRow, UserRow.id == ApiKeyRow.user_id)
            .where(UserRow.username == username)
            .order_by(ApiKeyRow.created_at)
        )
        with self._reading(f"reading API keys of {username!r}") as session:
            return [
                {
                    "id": k.id,
                    "label": k.label,
                    "created_at": k.created_at,
                    "expires_at": k.expires_at,
                    "revoked_at": k.revoked_at,
                }
                for k in session.scalars(query)
            ]

    def revoke_api_key(self, key_id: str, *, actor: str) -> None:
        """Revoke an API key (audited as ``api_keys.revoke``)."""
        with self._writing(f"revoking API key {key_id!r}") as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                msg = f"there is no API key {key_id!r}"
                raise NotFoundError(msg)
            if row.revoked_at is None:
                row.revoked_at = _now()
                self._append_audit(session, actor, "api_keys.revoke", f"api_key:{key_id}")

    # Refresh tokens --------------------------------------------------------------------
    def add_refresh_token(
        self,
        username: str,
        token_id: str,
        family: str,
        token_hash: str,
        expires_at: dt.datetime,
        *,
        replaces: str | None = None,
    ) -> None:
        """Keep a refresh token's hash; with ``replaces``, revoke that token in the same step.

        Raises
        ------
        ConsistencyError
            If ``replaces`` was revoked already (it was used twice: the caller revokes the
            family).
        """
        now = _now()
        with self._writing("storing a refresh token", lock=False) as session:
            user_id = session.scalar(sa.select(UserRow.id).where(UserRow.username == username))
            if user_id is None:
                msg = f"there is no user named {username!r}"
                raise NotFoundError(msg)
            if replaces is not None:
                done = session.execute(
                    sa.update(RefreshTokenRow)
                    .where(RefreshTokenRow.id == replaces, RefreshTokenRow.revoked_at.is_(None))
                    .values(revoked_at=now, replaced_by=token_id)
                )
                if done.rowcount != 1:
                    msg = f"refresh token {replaces!r} was used already"
                    raise ConsistencyError(msg)
            session.add(
                RefreshTokenRow(
                    id=token_id,
                    user_id=user_id,
                    family=family,
                    token_hash=token_hash,
                    issued_at=now,
                    expires_at=expires_at,
                )
            )

    def refresh_token(self, token_id: str) -> dict[str, Any] | None:
        """Return a refresh token's record with its user's name, or ``None``."""
        query = (
            sa.select(RefreshTokenRow, UserRow.username)
            .join(UserRow, UserRow.id == RefreshTokenRow.user_id)
            .where(RefreshTokenRow.id == token_id)
        )
        with self._reading("reading a refresh token") as session:
            found = session.execute(query).first()
            if found is None:
                return None
            row, username = found
            return {"username": username, **columns(row)}

    def revoke_refresh_tokens(
        self, *, family: str | None = None, username: str | None = None
    ) -> int:
        """Revoke the live refresh tokens of a family or of a user; return how many."""
        if (family is None) == (username is None):
            msg = "give exactly one of family and username"
            raise ValidationError(msg)
        query = sa.update(RefreshTokenRow).where(RefreshTokenRow.revoked_at.is_(None))
        if family is not None:
            query = query.where(RefreshTokenRow.family == family)
        else:
            ids = sa.select(UserRow.id).where(UserRow.username == username).scalar_subquery()
            query = query.where(RefreshTokenRow.user_id == ids)
        with self._writing("revoking refresh tokens", lock=False) as session:
            return session.execute(query.values(revoked_at=_now())).rowcount

    # Setpoints -------------------------------------------------------------------------
    def add_setpoints(
        self, park_id: str, setpoints: Sequence[Mapping[str, Any]], *, actor: str, client: str = ""
    ) -> list[dict[str, Any]]:
        """Store setpoint commands as ``pending`` and audit them (``setpoints.issue``).

        Each mapping holds ``point``, ``value``, ``unit``, ``valid_until`` and optionally
        ``reason`` and ``strategy``.
        """
        now = _now()
        rows = [
            SetpointRow(
                park_id=park_id,
                point=s["point"],
                value=float(s["value"]),
                unit=s.get("unit", ""),
                valid_until=s["valid_until"],
                status="pending",
                reason=s.get("reason", ""),
                strategy=s.get("strategy"),
                created_by=actor,
                created_at=now,
                detail="",
            )
            for s in setpoints
        ]
        with self._writing(f"issuing {len(rows)} setpoints") as session:
            session.add_all(rows)
            session.flush()
            for r in rows:
                self._append_audit(
                    session,
                    actor,
                    "setpoints.issue",
                    f"setpoint:{r.id}",
                    {"park_id": park_id, "point": r.point, "value": r.value, "unit": r.unit},
                    client=client,
                )
            return [columns(r) for r in rows]

    def setpoints(
        self,
        park_id: str,
        *,
        status: Sequence[str] | None = None,
        points: Sequence[str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Return setpoints of a park, newest first, optionally by status and point."""
        query = newest_first(SetpointRow, park_id, status, points, limit)
        with self._reading("reading setpoints") as session:
            return [columns(r) for r in session.scalars(query)]

    def deliver_setpoints(
        self, park_id: str, points: Sequence[str], *, to: str, now: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Hand the pending setpoints of ``points`` to integration ``to``.

        Pending setpoints past their ``valid_until`` become ``expired`` instead; every
        change is audited.
        """
        now = now or _now()
        with self._writing("delivering setpoints") as session:
            rows = list(
                session.scalars(
                    sa.select(SetpointRow)
                    .where(
                        SetpointRow.park_id == park_id,
                        SetpointRow.status == "pending",
                        SetpointRow.point.in_(list(points)),
                    )
                    .order_by(SetpointRow.id)
                )
            )
            out = []
            for r in rows:
                if r.valid_until < now:
                    r.status = "expired"
                    action = "setpoints.expire"
                else:
                    r.status, r.delivered_to, r.delivered_at = "delivered", to, now
                    action = "setpoints.deliver"
                    out.append(r)
                self._append_audit(session, to, action, f"setpoint:{r.id}", {"point": r.point})
            session.flush()
            return [columns(r) for r in out]

    def acknowledge_setpoint(
        self,
        setpoint_id: int,
        *,
        by: str,
        applied: bool,
        readback: float | None = None,
        detail: str = "",
    ) -> dict[str, Any]:
        """Record an integration's answer to a delivered setpoint (audited).

        Raises
        ------
        NotFoundError
            If there is no such setpoint.
        ConsistencyError
            If it was not delivered to ``by``.
        """
        with self._writing(f"acknowledging setpoint {setpoint_id}") as session:
            row = session.get(SetpointRow, setpoint_id)
            if row is None:
                msg = f"there is no setpoint {setpoint_id}"
                raise NotFoundError(msg)
            if row.status != "delivered" or row.delivered_to != by:
                msg = (
                    f"setpoint {setpoint_id} is {row.status}"
                    + (f" (delivered to {row.delivered_to!r})" if row.delivered_to else "")
                    + f"; only a setpoint delivered to {by!r} can be acknowledged by it"
                )
                raise ConsistencyError(msg)
            row.status = "acknowledged" if applied else "failed"
            row.acknowledged_at = _now()
            row.readback = readback
            row.detail = detail
            self._append_audit(
                session,
                by,
                "setpoints.acknowledge",
                f"setpoint:{setpoint_id}",
                {"applied": applied, "readback": readback, "detail": detail},
                outcome="ok" if applied else "failed",
            )
            session.flush()
            return columns(row)

    # Audit in bulk -----------------------------------------------------------------------
    def audit_many(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Append many audit records in one transaction, in order; return how many.

        Each mapping holds ``actor``, ``action``, ``object`` and optionally ``detail``,
        ``outcome`` and ``client`` (as :meth:`Store.audit`). The access log of the API
        goes this way, a batch at a time: the last hash is read once, the records are
        chained in memory and inserted in one statement, under the writer lock that
        keeps the chain from forking.
        """
        from carbontwin.store.integrity import GENESIS_HASH, jsonable
        from carbontwin.store.models import AuditRow
        from carbontwin.store.repository import audit_hash

        if not records:
            return 0
        now = _now()
        with self._writing(f"writing {len(records)} audit records") as session:
            last = session.execute(
                sa.select(AuditRow.id, AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)
            ).first()
            prev = last.hash if last else GENESIS_HASH
            ids = self._next_audit_ids(session, len(records), last.id if last else 0)
            rows = []
            for new_id, r in zip(ids, records, strict=True):
                row = {
                    "id": new_id,
                    "ts": now,
                    "actor": r.get("actor") or "anonymous",
                    "action": r["action"],
                    "object": r.get("object", ""),
                    "detail": jsonable(r.get("detail")),
                    "outcome": r.get("outcome", "ok"),
                    "client": r.get("client", ""),
                    "prev_hash": prev,
                }
                row["hash"] = prev = audit_hash(row)
                rows.append(row)
            session.execute(sa.insert(AuditRow), rows)
        return len(rows)

    def _next_audit_ids(self, session: Session, n: int, last_id: int) -> list[int]:
        """Reserve ``n`` ids of the audit log, above every id handed out so far."""
        if session.get_bind().dialect.name == "postgresql":
            seq = session.scalar(sa.text("SELECT pg_get_serial_sequence('audit_log', 'id')"))
            got = session.scalars(
                sa.text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": seq, "n": n}
            )
            return sorted(int(i) for i in got)
        # SQLite (AUTOINCREMENT): never reuse an id, even of a removed last row.
        seq = session.scalar(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'"))
        base = max(int(seq or 0), last_id)
        return list(range(base + 1, base + n + 1))
