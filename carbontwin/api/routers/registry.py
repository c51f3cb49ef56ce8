"""The park registry: read, create, change and retire records, every version kept (P1).

Zones, enterprises, facilities, sources, points and assets, and the park's basic
information (CECS 5.2).

An emission unit sees only its own enterprise and the records that belong to it (zones are
the park's layout and visible to all). Changes need ``registry.write``; each is a new
version from the day given (today by default), so the park of any past date can be read
with ``as_of``.
"""

# Annotations are evaluated when each route is made: the routes are built per kind in a
# loop and name their kind's model.
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel

from carbontwin.api.dependencies import ApiContext, context, require
from carbontwin.api.schemas import DENIED, INVALID, NOT_FOUND
from carbontwin.core.assets import Asset
from carbontwin.core.park import Enterprise, Facility, Park, Zone
from carbontwin.core.points import MeteringPoint
from carbontwin.core.sources import EmissionSource
from carbontwin.runtime import registry as reg
from carbontwin.runtime.access import Principal
from carbontwin.store import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["registry"])

#: URL segment → (registry kind, model).
KINDS: dict[str, tuple[str, Any]] = {
    "zones": ("zone", Zone),
    "enterprises": ("enterprise", Enterprise),
    "facilities": ("facility", Facility),
    "sources": ("source", EmissionSource),
    "points": ("point", MeteringPoint),
    "assets": ("asset", Asset),
}

Ctx = Annotated[ApiContext, Depends(context)]
Reader = Annotated[Principal, Depends(require("registry.read"))]
Writer = Annotated[Principal, Depends(require("registry.write"))]
RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
AsOf = Annotated[dt.date | None, Query(description="the registry as it was that day")]


class ParkInfo(BaseModel):
    """The park's basic information (without its lists)."""

    id: str
    name: str
    name_zh: str
    timezone: str
    province: str
    grid_region: str
    address: str
    contacts: list[dict[str, Any]]
    counts: dict[str, int]


class Version(BaseModel):
    """One version of a registry record."""

    valid_from: dt.date
    valid_to: dt.date | None
    data: dict[str, Any]
    changed_by: str
    changed_at: dt.datetime
    note: str


def _park(ctx: ApiContext, as_of: dt.date | None) -> Park:
    if as_of is None or as_of >= dt.date.today():
        return ctx.park
    return ctx.store.load_park(ctx.park.id, as_of)


def _visible(who: Principal, kind: str, record: Any) -> bool:
    if kind == "zone" or not who.scoped:
        return True
    return reg.record_enterprise(kind, record) == who.enterprise


def _when(on: dt.date | None) -> dt.date | None:
    # The API serves one current definition of the park: a change dated ahead would make
    # it current at once, and every later change dated today would come out of order.
    if on is not None and on > dt.date.today():
        msg = (
            f"on(={on}) is in the future; a registry change takes effect today or on a past "
            "day — make it on the day it applies"
        )
        raise reg.ValidationError(msg)
    return on


def _find(park: Park, segment: str, record_id: str) -> Any:
    kind, _ = KINDS[segment]
    for item in getattr(park, reg.KIND_LISTS[kind]):
        if item.id == record_id:
            return item
    msg = f"there is no {kind} {record_id!r} in park {park.id!r}"
    raise NotFoundError(msg)


@router.get("/park", response_model=ParkInfo, responses=DENIED)
async def park_info(who: Annotated[Principal, Depends(require("park.read"))], ctx: Ctx) -> ParkInfo:
    """Return the park's basic information and how many records of each kind it has."""
    p = ctx.park
    return ParkInfo(
        id=p.id,
        name=p.name,
        name_zh=p.name_zh,
        timezone=p.timezone,
        province=p.province,
        grid_region=p.grid_region,
        address=p.address,
        contacts=[c.model_dump(mode="json") for c in p.contacts],
        counts={seg: len(getattr(p, reg.KIND_LISTS[k])) for seg, (k, _) in KINDS.items()},
    )


def _routes(segment: str, kind: str, model: Any) -> None:
    @router.get(
        f"/registry/{segment}",
        response_model=list[model],
        responses={**DENIED, **INVALID, **NOT_FOUND},
        summary=f"List {segment}",
        name=f"list_{segment}",
    )
    def list_records(who: Reader, ctx: Ctx, as_of: AsOf = None) -> list[Any]:
        park = _park(ctx, as_of)
        items = getattr(park, reg.KIND_LISTS[kind])
        return [i for i in items if _visible(who, kind, i)]

    @router.get(
        f"/registry/{segment}/{{record_id}}",
        response_model=model,
        responses={**DENIED, **NOT_FOUND, **INVALID},
        summary=f"Read one of the {segment}",
        name=f"get_{kind}",
    )
    def get_record(record_id: RecordId, who: Reader, ctx: Ctx, as_of: AsOf = None) -> Any:
        item = _find(_park(ctx, as_of), segment, record_id)
        if not _visible(who, kind, item):
            who.check_enterprise(reg.record_enterprise(kind, item))
        return item

    @router.get(
        f"/registry/{segment}/{{record_id}}/history",
        response_model=list[Version],
        responses={**DENIED, **INVALID, **NOT_FOUND},
        summary=f"Every version of one of the {segment}",
        name=f"history_{kind}",
    )
    def history(record_id: RecordId, who: Reader, ctx: Ctx) -> list[Version]:
        versions = ctx.store.history(ctx.park.id, kind, record_id)
        if not versions:
            msg = f"park {ctx.park.id!r} has never had a {kind} {record_id!r}"
            raise NotFoundError(msg)
        if who.scoped and kind != "zone":
            for v in versions:
                data = v["data"]
                owner = data.get("id") if kind == "enterprise" else data.get("enterprise")
                who.check_enterprise(owner)
        return [Version(**{k: v[k] for k in Version.model_fields}) for v in versions]

    @router.post(
        f"/registry/{segment}",
        response_model=model,
        status_code=201,
        responses={**DENIED, **INVALID, 409: {"description": "the id exists"}},
        summary=f"Create one of the {segment}",
        name=f"create_{kind}",
    )
    def create(
        who: Writer,
        ctx: Ctx,
        record: Annotated[model, Body(description="the new record")],
        on: Annotated[dt.date | None, Query(description="valid from (default today)")] = None,
    ) -> Any:
        item = record
        with ctx.lock:
            ctx.park = reg.upsert_record(
                ctx.store,
                ctx.park,
                kind,
                item.model_dump(mode="json"),
                user=who.name,
                create=True,
                on=_when(on),
            )
        return item

    @router.put(
        f"/registry/{segment}/{{record_id}}",
        response_model=model,
        responses={**DENIED, **INVALID, **NOT_FOUND, 409: {"description": "no such id"}},
        summary=f"Change one of the {segment}",
        name=f"change_{kind}",
    )
    def change(
        record_id: RecordId,
        who: Writer,
        ctx: Ctx,
        record: Annotated[model, Body(description="the record as it is to be")],
        on: Annotated[dt.date | None, Query(description="valid from (default today)")] = None,
    ) -> Any:
        item = record
        if item.id != record_id:
            msg = f"the body's id {item.id!r} is not the {kind} {record_id!r} of the URL"
            raise reg.ValidationError(msg)
        _find(ctx.park, segment, record_id)
        with ctx.lock:
            ctx.park = reg.upsert_record(
                ctx.store,
                ctx.park,
                kind,
                item.model_dump(mode="json"),
                user=who.name,
                create=False,
                on=_when(on),
            )
        return item

    @router.delete(
        f"/registry/{segment}/{{record_id}}",
        status_code=204,
        responses={**DENIED, **INVALID, **NOT_FOUND},
        summary=f"Retire one of the {segment}",
        name=f"retire_{kind}",
    )
    def retire(
        record_id: RecordId,
        who: Writer,
        ctx: Ctx,
        on: Annotated[dt.date | None, Query(description="retired from (default today)")] = None,
    ) -> None:
        with ctx.lock:
            ctx.park = reg.retire_record(
                ctx.store, ctx.park, kind, record_id, user=who.name, on=_when(on)
            )


for _segment, (_kind, _model) in KINDS.items():
    _routes(_segment, _kind, _model)
