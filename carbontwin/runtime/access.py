"""Who may do what: roles, permissions and per-enterprise data scoping (CECS 5.9.4).

One table, :data:`PERMISSIONS`, maps each role to what it may do; every edge (the API, the
dashboard, the CLI) asks :meth:`Principal.require` and scopes data with
:meth:`Principal.enterprises` and the ``visible_*`` helpers here, so the rules live in one
place. ``docs/security.md`` prints the same table.

Roles
-----
``emission_unit``
    A reporting enterprise (排放单位): sees and enters only its own enterprise's data.
``park_manager``
    The park's management (园区管理者): the whole park, registry edits, accounting.
``platform_operator``
    Runs the platform (平台运营者): users, devices and keys, audit, integrity, the
    pipeline's health; no business data and no business edits.
``energy_manager``
    Operates the park's energy systems: overview, twin, setpoints and strategies.
``integration``
    A service account of a BMS or another system: pushes readings, receives setpoints.

Examples
--------
>>> p = Principal("e04", "emission_unit", park_id="demo", enterprise="E04")
>>> p.can("entries.write"), p.can("registry.write")
(True, False)
>>> sorted(p.enterprises(["E01", "E04"]))
['E04']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from carbontwin.core.park import Park

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "ROLE_LABELS",
    "SCOPED_ROLES",
    "AccessDenied",
    "Principal",
    "matrix_markdown",
    "permission_matrix",
    "visible_points",
    "visible_sources",
]

#: Every permission, with what it allows (en, zh).
PERMISSION_LABELS: dict[str, tuple[str, str]] = {
    "park.read": ("read the park's basic information", "查看园区基本信息"),
    "registry.read": (
        "read zones, enterprises, sources and points",
        "查看区域、企业、排放源和计量点",
    ),
    "registry.write": ("create, edit and retire registry records", "新增、修改、注销登记记录"),
    "readings.read": ("read readings and interval data", "查看读数与区间数据"),
    "readings.write": ("push readings", "推送读数"),
    "entries.read": ("read activity data", "查看活动数据"),
    "entries.write": ("enter and push activity data", "录入与推送活动数据"),
    "inventory.read": ("read inventories and their drill-down", "查看排放清单及明细"),
    "inventory.run": ("compute and store inventories", "计算并保存排放清单"),
    "overview.read": ("read the carbon overview", "查看碳排放总览"),
    "forecast.read": (
        "read the park's forecasts and target pre-allocations",
        "查看园区负荷预测与目标预分配",
    ),
    "factors.read": ("read emission factors", "查看排放因子"),
    "factors.write": ("override and revoke factors", "修改与撤销排放因子"),
    "quarantine.read": ("read quarantined rows", "查看隔离数据"),
    "quarantine.release": ("release quarantined rows", "释放隔离数据"),
    "alarms.read": ("read alarms", "查看告警"),
    "alarms.handle": ("acknowledge and close alarms", "确认与关闭告警"),
    "twin.read": ("read the live twin's state", "查看数字孪生实时状态"),
    "setpoints.read": ("read setpoints and their outcome", "查看设定值及其执行结果"),
    "setpoints.write": ("issue setpoints", "下发设定值"),
    "setpoints.receive": ("receive and acknowledge setpoints", "接收并确认设定值"),
    "strategies.read": ("read control strategies", "查看控制策略"),
    "strategies.propose": (
        "propose control strategies and verify their effect",
        "生成控制策略并核验其效果",
    ),
    "strategies.accept": (
        "accept or reject control strategies; dispatch or advise them",
        "接受或拒绝控制策略；下发或推送策略",
    ),
    "scenarios.run": (
        "run carbon-peak scenario studies and reduction portfolios",
        "运行碳达峰情景推演与减排方案优化",
    ),
    "users.read": ("read users and keys", "查看用户与密钥"),
    "users.write": ("add, change and disable users; issue keys", "新增、修改、停用用户；签发密钥"),
    "audit.read": ("read the audit log", "查看审计日志"),
    "integrity.verify": ("verify the integrity chain", "校验数据完整性链"),
}

_BUSINESS_READ = {
    "park.read",
    "registry.read",
    "readings.read",
    "entries.read",
    "inventory.read",
    "overview.read",
    "factors.read",
    "quarantine.read",
    "alarms.read",
    "twin.read",
}

#: Role → the permissions it holds. The one place access is decided.
PERMISSIONS: dict[str, frozenset[str]] = {
    "emission_unit": frozenset(_BUSINESS_READ | {"entries.write"}),
    "park_manager": frozenset(
        _BUSINESS_READ
        | {
            "registry.write",
            "entries.write",
            "inventory.run",
            "forecast.read",
            "strategies.read",
            "strategies.propose",
            "scenarios.run",
            "factors.write",
            "quarantine.release",
            "alarms.handle",
            "setpoints.read",
            "integrity.verify",
        }
    ),
    "platform_operator": frozenset(
        {
            "park.read",
            "registry.read",
            "quarantine.read",
            "alarms.read",
            "alarms.handle",
            "twin.read",
            "users.read",
            "users.write",
            "audit.read",
            "integrity.verify",
        }
    ),
    "energy_manager": frozenset(
        {
            "park.read",
            "registry.read",
            "readings.read",
            "inventory.read",
            "overview.read",
            "forecast.read",
            "factors.read",
            "alarms.read",
            "alarms.handle",
            "twin.read",
            "setpoints.read",
            "setpoints.write",
            "strategies.read",
            "strategies.propose",
            "strategies.accept",
            "scenarios.run",
        }
    ),
    "integration": frozenset({"park.read", "readings.write", "setpoints.receive"}),
}

ROLES: tuple[str, ...] = tuple(PERMISSIONS)

#: Roles whose data is limited to their own enterprise.
SCOPED_ROLES = frozenset({"emission_unit"})

#: Role names shown to people (en, zh).
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "emission_unit": ("emission unit", "排放单位"),
    "park_manager": ("park manager", "园区管理者"),
    "platform_operator": ("platform operator", "平台运营者"),
    "energy_manager": ("energy manager", "能源管理员"),
    "integration": ("integration (service account)", "系统集成（服务账号）"),
}


class AccessDenied(PermissionError):
    """A principal asked for something its role or scope does not allow.

    ``code`` is ``forbidden`` (the role lacks the permission) or ``out_of_scope`` (the
    data belongs to another enterprise or park).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user or service account, its role and its scope.

    Parameters
    ----------
    name : str
        The user's name (recorded in the audit log).
    role : str
        One of :data:`ROLES`.
    park_id : str, optional
        The park the user belongs to; ``None`` for every park (platform operators).
    enterprise : str, optional
        The enterprise an emission unit reports for.
    kind : str, optional
        ``person`` or ``service``.
    """

    name: str
    role: str
    park_id: str | None = None
    enterprise: str | None = None
    kind: str = "person"

    def __post_init__(self) -> None:
        if self.role not in PERMISSIONS:
            msg = f"role {self.role!r} is not known; roles: {', '.join(ROLES)}"
            raise ValueError(msg)
        if self.role in SCOPED_ROLES and not self.enterprise:
            msg = f"a user of role {self.role!r} needs the enterprise it reports for"
            raise ValueError(msg)

    @property
    def scoped(self) -> bool:
        """Whether the principal sees only its own enterprise's data."""
        return self.role in SCOPED_ROLES

    def can(self, permission: str) -> bool:
        """Whether the role holds ``permission``."""
        if permission not in PERMISSION_LABELS:
            msg = f"permission {permission!r} is not known"
            raise KeyError(msg)
        return permission in PERMISSIONS[self.role]

    def require(self, permission: str) -> None:
        """Raise :class:`AccessDenied` unless the role holds ``permission``."""
        if not self.can(permission):
            what = PERMISSION_LABELS[permission][0]
            label = ROLE_LABELS[self.role][0]
            msg = f"the role {label!r} may not {what} ({permission}); ask a user whose role may"
            raise AccessDenied(code="forbidden", message=msg)

    def require_park(self, park_id: str) -> None:
        """Raise :class:`AccessDenied` unless the principal belongs to park ``park_id``."""
        if self.park_id is not None and self.park_id != park_id:
            msg = f"user {self.name!r} belongs to park {self.park_id!r}, not {park_id!r}"
            raise AccessDenied(code="out_of_scope", message=msg)

    def enterprises(self, all_ids: Iterable[str]) -> set[str]:
        """Return the enterprises among ``all_ids`` whose data the principal may see."""
        ids = set(all_ids)
        if self.scoped:
            return ids & {self.enterprise or ""}
        return ids

    def check_enterprise(self, enterprise: str | None) -> None:
        """Raise :class:`AccessDenied` if ``enterprise``'s data is outside the scope.

        Park-level data (``enterprise`` ``None``) is outside an emission unit's scope.
        """
        if self.scoped and enterprise != self.enterprise:
            shown = f"enterprise {enterprise!r}" if enterprise else "park-level data"
            msg = (
                f"user {self.name!r} reports for enterprise {self.enterprise!r} and may not "
                f"see {shown}"
            )
            raise AccessDenied(code="out_of_scope", message=msg)

    def narrow(self, requested: Iterable[str] | None, all_ids: Iterable[str]) -> list[str]:
        """Return the enterprises a query asks for, refused if any is out of scope.

        ``requested`` ``None`` means all the principal may see.
        """
        allowed = self.enterprises(all_ids)
        if requested is None:
            return sorted(allowed)
        wanted = list(dict.fromkeys(requested))
        for e in wanted:
            if e not in allowed:
                self.check_enterprise(e)
        return wanted


def visible_sources(principal: Principal, park: Park) -> list[str]:
    """Return the ids of the park's sources whose data ``principal`` may see."""
    allowed = principal.enterprises(e.id for e in park.enterprises)
    return [s.id for s in park.sources if s.enterprise in allowed]


def visible_points(principal: Principal, park: Park) -> list[str]:
    """Return the ids of the park's metering points whose data ``principal`` may see."""
    allowed = principal.enterprises(e.id for e in park.enterprises)
    return [p.id for p in park.points if p.enterprise in allowed]


def permission_matrix(lang: str = "en") -> list[dict[str, str]]:
    """Return the role × permission table as rows (for ``docs/security.md`` and the UI)."""
    li = 0 if lang == "en" else 1
    rows = []
    for perm, labels in PERMISSION_LABELS.items():
        row = {"permission": perm, "allows": labels[li]}
        for role in ROLES:
            row[role] = "yes" if perm in PERMISSIONS[role] else ""
        rows.append(row)
    return rows


def matrix_markdown() -> str:
    """Return the role × permission table as Markdown (it is in ``docs/security.md``)."""
    zh = {r["permission"]: r["allows"] for r in permission_matrix("zh")}
    head = "| permission | allows | 允许 | " + " | ".join(ROLES) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(ROLES)]
    for r in permission_matrix("en"):
        marks = " | ".join("✓" if r[role] else "" for role in ROLES)
        lines.append(f"| `{r['permission']}` | {r['allows']} | {zh[r['permission']]} | {marks} |")
    return "\n".join(lines) + "\n"
