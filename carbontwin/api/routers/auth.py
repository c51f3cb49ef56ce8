"""Sign-in: OAuth2 password flow with short-lived access tokens and rotating refresh tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from carbontwin.api.dependencies import ApiContext, ApiError, Caller, client_address, context
from carbontwin.api.schemas import DENIED, INVALID, ErrorOut
from carbontwin.runtime.access import PERMISSIONS, ROLE_LABELS
from carbontwin.runtime.auth import PASSWORD_POLICY, Session

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    """A session: the access token for requests and the refresh token to renew it."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str = Field(description="exchange at /auth/refresh; each use rotates it")
    role: str
    enterprise: str | None


class RefreshIn(BaseModel):
    """A refresh token."""

    refresh_token: str = Field(min_length=1, max_length=200)


class MeOut(BaseModel):
    """Who the credential speaks for and what it may do."""

    username: str
    kind: str
    role: str
    role_label: dict[str, str]
    park: str | None
    enterprise: str | None
    permissions: list[str]


class PasswordIn(BaseModel):
    """A change of one's own password."""

    current: str = Field(min_length=1, max_length=200)
    new: str = Field(min_length=1, max_length=200, description=PASSWORD_POLICY)


def _out(s: Session) -> TokenOut:
    return TokenOut(
        access_token=s.access_token,
        expires_in=s.expires_in,
        refresh_token=s.refresh_token,
        role=s.principal.role,
        enterprise=s.principal.enterprise,
    )


_SIGN_IN = {
    401: {"model": ErrorOut, "description": "wrong user name or password"},
    403: {"model": ErrorOut, "description": "account locked or disabled"},
    429: {"model": ErrorOut, "description": "too many attempts"},
}


@router.post("/token", response_model=TokenOut, responses={**_SIGN_IN, **INVALID})
def sign_in(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    ctx: Annotated[ApiContext, Depends(context)],
) -> TokenOut:
    """Sign in with a user name and password (OAuth2 password flow).

    Five failed attempts in a row lock the account for 15 minutes.
    """
    return _out(ctx.auth.sign_in(form.username, form.password, client=client_address(request)))


@router.post("/refresh", response_model=TokenOut, responses={**_SIGN_IN, **INVALID})
def refresh(
    request: Request, body: RefreshIn, ctx: Annotated[ApiContext, Depends(context)]
) -> TokenOut:
    """Exchange a refresh token for a new session; the old refresh token stops working."""
    return _out(ctx.auth.refresh(body.refresh_token, client=client_address(request)))


@router.post("/logout", status_code=204, responses={**INVALID})
def sign_out(body: RefreshIn, ctx: Annotated[ApiContext, Depends(context)]) -> None:
    """Close a session: its refresh token (and the ones it was renewed from) stop working."""
    ctx.auth.sign_out(body.refresh_token)


@router.get("/me", response_model=MeOut, responses=DENIED)
async def me(who: Caller) -> MeOut:
    """Return who the credential speaks for, the role and its permissions."""
    en, zh = ROLE_LABELS[who.role]
    return MeOut(
        username=who.name,
        kind=who.kind,
        role=who.role,
        role_label={"en": en, "zh": zh},
        park=who.park_id,
        enterprise=who.enterprise,
        permissions=sorted(PERMISSIONS[who.role]),
    )


@router.post("/password", status_code=204, responses={**DENIED, **INVALID})
def change_password(
    request: Request, body: PasswordIn, who: Caller, ctx: Annotated[ApiContext, Depends(context)]
) -> None:
    """Change one's own password (the current one is checked; every session is closed)."""
    if who.kind != "person":
        msg = f"{who.name!r} is a service account: it has no password, it signs in with API keys"
        raise ApiError(403, "forbidden", msg)
    ctx.auth.sign_in(who.name, body.current, client=client_address(request))
    ctx.auth.set_password(who.name, body.new, actor=who.name)
