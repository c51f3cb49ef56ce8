"""The dashboard's texts in English and Chinese, and locale-aware number formatting."""

from __future__ import annotations

__all__ = ["LABELS", "fmt", "label"]

LABELS: dict[str, tuple[str, str]] = {
    "app.title": ("carbontwin — park carbon management", "carbontwin 园区智慧碳管理"),
    "login.title": ("Sign in", "登录"),
    "login.user": ("User name", "用户名"),
    "login.password": ("Password", "密码"),
    "login.submit": ("Sign in", "登录"),
    "login.signed_in": ("Signed in as {user} ({role})", "已登录：{user}（{role}）"),
    "logout": ("Sign out", "退出"),
    "lang": ("中文", "English"),
    "nav.overview": ("Carbon overview", "碳排放总览"),
    "nav.accounting": ("Accounting and analysis", "核算与分析"),
    "nav.twin": ("Live twin", "实时孪生"),
    "nav.entry": ("Data entry", "数据填报"),
    "nav.park": ("Park", "园区信息"),
    "nav.strategies": ("Control strategies", "控制策略"),
    "nav.scenarios": ("Scenarios", "情景分析"),
    "nav.targets": ("Targets", "目标管理"),
    "nav.reports": ("Reports", "报告"),
    "nav.later": ("coming with a later release", "后续版本提供"),
    "overview.year": ("Year", "年份"),
    "overview.total": ("Total emissions", "排放总量"),
    "overview.energy": ("Energy", "能源消费"),
    "overview.offsets": ("Offsets", "抵消量"),
    "overview.by_zone": ("By zone", "按区域"),
    "overview.by_scope": ("By scope", "按范围"),
    "overview.by_month": ("By month", "按月"),
    "overview.ranking": ("Enterprise ranking", "企业排名"),
    "overview.none": (
        "No stored inventory for this year yet: run carbontwin demo or store one.",
        "该年份尚无已保存的排放清单：请运行 carbontwin demo 或先保存清单。",
    ),
    "accounting.period": ("Month", "月份"),
    "accounting.by": ("Group by", "分组"),
    "accounting.table": ("Emissions", "排放量"),
    "accounting.trace": ("Drill-down: activity and factors", "明细：活动数据与排放因子"),
    "accounting.enterprise": ("Enterprise", "企业"),
    "accounting.export": ("Export CSV", "导出 CSV"),
    "twin.points": ("Points: value, age and quality", "计量点：数值、时效与质量"),
    "twin.quarantine": ("Quarantined rows", "隔离数据"),
    "entry.title": ("Enter activity data", "填报活动数据"),
    "entry.source": ("Source", "排放源"),
    "entry.start": ("First day", "开始日期"),
    "entry.end": ("Last day", "结束日期"),
    "entry.quantity": ("Quantity", "数量"),
    "entry.unit": ("Unit", "单位"),
    "entry.ref": ("Reference (invoice, ledger)", "凭证（发票、台账）"),
    "entry.submit": ("Submit", "提交"),
    "entry.landed": ("Stored: {n} row(s)", "已保存 {n} 行"),
    "entry.quarantined": ("Quarantined: {reason}", "已隔离：{reason}"),
    "col.zone": ("zone", "区域"),
    "col.scope": ("scope", "范围"),
    "col.month": ("month", "月份"),
    "col.enterprise": ("enterprise", "企业"),
    "col.name": ("name", "名称"),
    "col.industry": ("industry", "行业"),
    "col.rank": ("rank", "排名"),
    "col.tco2e": ("t CO2e", "吨二氧化碳当量"),
    "col.share": ("share", "占比"),
    "col.category": ("category", "类别"),
    "col.gas": ("gas", "气体"),
    "col.total": ("total", "合计"),
    "denied": ("Your role may not see this page.", "您的角色无权查看此页面。"),
}


def label(key: str, lang: str = "en", **values: object) -> str:
    """Return the text of ``key`` in ``lang`` (``en`` or ``zh``), filled with ``values``."""
    en, zh = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


def fmt(value: float, lang: str = "en", digits: int = 0) -> str:
    """Format a number for ``lang``: thousands grouped; large Chinese figures in 万."""
    if lang == "zh" and abs(value) >= 1e5:
        return f"{value / 1e4:,.{max(digits, 1)}f} 万"
    return f"{value:,.{digits}f}"
