"""Users and service accounts, and the API keys of service accounts (platform operators)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.schemas import CONFLICT, DENIED, INVALID, NOT_FOUND
from carbontwin.runtime.access import ROLES, Principal
from carbontwin.runtime.auth import PASSWORD_POLICY, check_scope
from carbontwin.store import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["users"])

Role = Literal[
    "emission_unit", "park_manager", "platform_operator", "energy_manager", "integration"
]
assert set(Role.__args__) == set(ROLES)  # type: ignore[attr-defined]
UserName = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]


class UserOut(BaseModel):
    """A user or service account (never its password or keys)."""

    username: str
    display_name: str
    kind: str
    role: str
    park_id: str | None
    enterprise: str | None
    disabled: bool
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime
    created_by: str


class UserIn(BaseModel):
    """A new user: a person with a password, or a service account (``kind: service``)."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    kind: Literal["person", "service"] = "person"
    password: str | None = Field(None, max_length=200, description=PASSWORD_POLICY)
    enterprise: str | None = Field(None, max_length=64, description="emission units only")
    display_name: str = Field("", max_length=200)


class UserPatch(BaseModel):
    """Changes to a user; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    disabled: bool | None = None
    role: Role | None = None
    enterprise: str | None = Field(None, max_length=64)
    display_name: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=200, description="a new password (reset)")


class KeyIn(BaseModel):
    """A new API key."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=200)
    days: int | None = Field(None, ge=1, le=3650, description="valid this many days")


class KeyOut(BaseModel):
    """An API key's record (the key itself is shown only when it is created)."""

    id: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewKeyOut(BaseModel):
    """A new API key: keep it, it is not shown again."""

    key: str
    id: str


def _user(u: dict[str, Any]) -> UserOut:
    return UserOut(**{k: u[k] for k in UserOut.model_fields})


def _get(ctx: ApiContext, username: str) -> dict[str, Any]:
    u = ctx.store.user(username)
    if u is None:
        msg = f"there is no user named {username!r}"
        raise NotFoundError(msg)
    return u


def _check_enterprise(ctx: ApiContext, enterprise: str | None) -> None:
    if enterprise is not None:
        ids = {e.id for e in ctx.park.enterprises}
        if enterprise not in ids:
            msg = f"enterprise {enterprise!r} is not in park {ctx.park.id!r}"
            raise NotFoundError(msg)


ReadUsers = Annotated[Principal, Depends(require("users.read"))]
WriteUsers = Annotated[Principal, Depends(require("users.write"))]
Ctx = Annotated[ApiContext, Depends(context)]


@router.get("/users", response_model=list[UserOut], responses=DENIED)
def list_users(who: ReadUsers, ctx: Ctx) -> list[UserOut]:
    """List the users and service accounts."""
    return [_user(u) for u in ctx.store.users()]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    responses={**DENIED, **INVALID, **NOT_FOUND, **CONFLICT},
)
def add_user(body: UserIn, who: WriteUsers, ctx: Ctx) -> UserOut:
    """Add a person or a service account of the park."""
    _check_enterprise(ctx, body.enterprise)
    u = ctx.auth.add_user(
        body.username,
        body.role,
        actor=who.name,
        password=body.password,
        kind=body.kind,
        park_id=ctx.park.id,
        enterprise=body.enterprise,
        display_name=body.display_name,
    )
    return _user(u)


@router.get(
    "/users/{username}", response_model=UserOut, responses={**DENIED, **INVALID, **NOT_FOUND}
)
def get_user(username: UserName, who: ReadUsers, ctx: Ctx) -> UserOut:
    """Return one user."""
    return _user(_get(ctx, username))


@router.patch(
    "/users/{username}", response_model=UserOut, responses={**DENIED, **INVALID, **NOT_FOUND}
)
def change_user(username: UserName, body: UserPatch, who: WriteUsers, ctx: Ctx) -> UserOut:
    """Disable or enable a user, change its role, scope or name, or reset its password."""
    user = _get(ctx, username)
    changes = body.model_dump(exclude_unset=True, exclude={"password", "disabled"})
    if "enterprise" in changes:
        _check_enterprise(ctx, changes["enterprise"])
    # The combination must make sense (as for a new user) before anything is changed.
    check_scope(
        changes.get("role", user["role"]),
        changes.get("enterprise", user["enterprise"]),
        field="'enterprise'",
    )
    if body.password is not None:
        ctx.auth.set_password(username, body.password, actor=who.name)
    if changes:
        ctx.store.update_user(username, actor=who.name, **changes)
    if body.disabled is not None:
        ctx.auth.set_disabled(username, body.disabled, actor=who.name)
    ctx.auth.forget(username)
    return _user(_get(ctx, username))


@router.get(
    "/users/{username}/api-keys",
    response_model=list[KeyOut],
    responses={**DENIED, **INVALID, **NOT_FOUND},
)
def list_keys(username: UserName, who: ReadUsers, ctx: Ctx) -> list[KeyOut]:
    """List a service account's API keys."""
    _get(ctx, username)
    return [KeyOut(**k) for k in ctx.store.api_keys(username)]


@router.post(
    "/users/{username}/api-keys",
    response_model=NewKeyOut,
    status_code=201,
    responses={**DENIED, **INVALID, **NOT_FOUND},
)
def add_key(username: UserName, body: KeyIn, who: WriteUsers, ctx: Ctx) -> NewKeyOut:
    """Issue an API key to a service account; the key is in the answer only this once."""
    key = ctx.auth.issue_api_key(username, actor=who.name, label=body.label, days=body.days)
    return NewKeyOut(key=key, id=key.split("_", 1)[1].split(".", 1)[0])


@router.delete("/api-keys/{key_id}", status_code=204, responses={**DENIED, **INVALID, **NOT_FOUND})
def revoke_key(
    key_id: Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]+$")], who: WriteUsers, ctx: Ctx
) -> None:
    """Revoke an API key."""
    ctx.auth.revoke_api_key(key_id, actor=who.name)
