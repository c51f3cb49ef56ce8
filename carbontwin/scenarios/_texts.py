"""Texts of the scenario studies in en and zh, keyed by id.

The keys live here under ``scenarios.`` until they are merged into ``locales/{en,zh}.json``;
:func:`text` reads the locale files first, so a merged key wins.
"""

from __future__ import annotations

from collections.abc import Mapping

from carbontwin.locales import text as _locale_text

__all__ = ["TEXTS", "driver_label", "text"]

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "driver.value_added_1e4cny": "value-added growth of {industry}",
        "driver.energy_intensity_tce_per_1e4cny": "energy intensity of {industry}",
        "driver.carbon_intensity_tco2_per_tce": "carbon intensity of the energy of {industry}",
        "driver.electrification_frac": "electrification of {industry}",
        "driver.process_reduction_frac": "process-emission cuts of {industry}",
        "driver.ccus_capture_frac": "CCUS capture in {industry}",
        "driver.grid_factor_tco2_per_mwh": "the grid emission factor",
        "driver.pv_capacity_mw": "PV build-out",
        "driver.storage_capacity_mwh": "storage build-out",
        "driver.sinks_tco2e": "green-space sinks",
        "driver.event": "the entry or exit of {event}",
        "step.rate.reduction": "each extra 1 %/yr reduction",
        "step.rate.increase": "each extra 1 %/yr",
        "step.rate.less_growth": "each 1 %/yr less growth",
        "step.frac.reduction": "each percentage point less",
        "step.frac.increase": "each extra percentage point",
        "step.factor.reduction": "each 10 % lower path",
        "step.factor.increase": "each 10 % higher path",
        "step.mw.increase": "each extra 10 MW",
        "step.mw.reduction": "each 10 MW less",
        "step.mwh.increase": "each extra 10 MWh",
        "step.mwh.reduction": "each 10 MWh less",
        "step.grid.reduction": "each 0.01 tCO2/MWh lower factor",
        "step.grid.increase": "each 0.01 tCO2/MWh higher factor",
        "step.sink.increase": "each extra 1,000 tCO2e/yr",
        "step.sink.reduction": "each 1,000 tCO2e/yr less",
        "step.va.increase": "each extra 100 million CNY of value added",
        "step.va.reduction": "each 100 million CNY less value added",
        "step.intensity.reduction": "each 0.01 tce/10^4 CNY lower intensity",
        "step.intensity.increase": "each 0.01 tce/10^4 CNY higher intensity",
        "step.ci.reduction": "each 0.01 tCO2/tce lower intensity",
        "step.ci.increase": "each 0.01 tCO2/tce higher intensity",
        "step.unit.reduction": "each unit less ({unit})",
        "step.unit.increase": "each extra unit ({unit})",
        "suggest.most": "{driver} moves the peak most",
        "suggest.next": "{driver} comes next",
        "suggest.year.earlier": "brings the peak forward by about {years} years",
        "suggest.year.later": "delays the peak by about {years} years",
        "suggest.year.none": "leaves the peak year where it is",
        "suggest.value.lower": "lowers the peak by about {value} tCO2e",
        "suggest.value.higher": "raises the peak by about {value} tCO2e",
        "suggest.sentence": "{head}: {what} {year} and {value}.",
        "suggest.variance": " It explains about {share} % of the variance of the peak year.",
        "tapio.strong_decoupling": "strong decoupling",
        "tapio.weak_decoupling": "weak decoupling",
        "tapio.expansive_coupling": "expansive coupling",
        "tapio.expansive_negative_decoupling": "expansive negative decoupling",
        "tapio.strong_negative_decoupling": "strong negative decoupling",
        "tapio.weak_negative_decoupling": "weak negative decoupling",
        "tapio.recessive_coupling": "recessive coupling",
        "tapio.recessive_decoupling": "recessive decoupling",
        "tapio.undefined": "undefined (no change in output)",
    },
    "zh": {
        "driver.value_added_1e4cny": "{industry}增加值增速",
        "driver.energy_intensity_tce_per_1e4cny": "{industry}能源强度",
        "driver.carbon_intensity_tco2_per_tce": "{industry}能源消费碳排放强度",
        "driver.electrification_frac": "{industry}电气化率",
        "driver.process_reduction_frac": "{industry}工艺过程减排",
        "driver.ccus_capture_frac": "{industry}CCUS捕集率",
        "driver.grid_factor_tco2_per_mwh": "电网排放因子",
        "driver.pv_capacity_mw": "光伏装机",
        "driver.storage_capacity_mwh": "储能装机",
        "driver.sinks_tco2e": "绿地碳汇",
        "driver.event": "{event}",
        "step.rate.reduction": "每年多降低1个百分点",
        "step.rate.increase": "每年多增加1个百分点",
        "step.rate.less_growth": "年增速每降低1个百分点",
        "step.frac.reduction": "每降低1个百分点",
        "step.frac.increase": "每提高1个百分点",
        "step.factor.reduction": "整体路径每降低10%",
        "step.factor.increase": "整体路径每提高10%",
        "step.mw.increase": "每多装10兆瓦",
        "step.mw.reduction": "每少装10兆瓦",
        "step.mwh.increase": "每多装10兆瓦时",
        "step.mwh.reduction": "每少装10兆瓦时",
        "step.grid.reduction": "因子每降低0.01 tCO2/MWh",
        "step.grid.increase": "因子每提高0.01 tCO2/MWh",
        "step.sink.increase": "每年每多1,000 tCO2e",
        "step.sink.reduction": "每年每少1,000 tCO2e",
        "step.va.increase": "增加值每多1亿元",
        "step.va.reduction": "增加值每少1亿元",
        "step.intensity.reduction": "强度每降低0.01 tce/万元",
        "step.intensity.increase": "强度每提高0.01 tce/万元",
        "step.ci.reduction": "强度每降低0.01 tCO2/tce",
        "step.ci.increase": "强度每提高0.01 tCO2/tce",
        "step.unit.reduction": "每降低1单位（{unit}）",
        "step.unit.increase": "每提高1单位（{unit}）",
        "suggest.most": "{driver}对达峰影响最大",
        "suggest.next": "其次是{driver}",
        "suggest.year.earlier": "达峰时间提前约{years}年",
        "suggest.year.later": "达峰时间推迟约{years}年",
        "suggest.year.none": "达峰年份不变",
        "suggest.value.lower": "峰值降低约{value} tCO2e",
        "suggest.value.higher": "峰值升高约{value} tCO2e",
        "suggest.sentence": "{head}：{what}，{year}，{value}。",
        "suggest.variance": "它约解释达峰年份方差的{share}%。",
        "tapio.strong_decoupling": "强脱钩",
        "tapio.weak_decoupling": "弱脱钩",
        "tapio.expansive_coupling": "扩张连接",
        "tapio.expansive_negative_decoupling": "扩张负脱钩",
        "tapio.strong_negative_decoupling": "强负脱钩",
        "tapio.weak_negative_decoupling": "弱负脱钩",
        "tapio.recessive_coupling": "衰退连接",
        "tapio.recessive_decoupling": "衰退脱钩",
        "tapio.undefined": "无法判定（产出无变化）",
    },
}


def text(key: str, lang: str = "en", **values: object) -> str:
    """Return the scenario text ``key`` (``scenarios.`` + key in the locale files)."""
    full = f"scenarios.{key}"
    found = _locale_text(full, lang, **values) if values else _locale_text(full, lang)
    if found != full:
        return found
    table = TEXTS.get(lang, TEXTS["en"])
    template = table.get(key) or TEXTS["en"].get(key, key)
    return template.format(**values) if values else template


def driver_label(
    key: str,
    lang: str,
    industries: Mapping[str, tuple[str, str]],
    events: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """Return the name of driver ``key`` (``kind`` or ``kind:industry``) in ``lang``.

    The first letter is capitalised in English.
    """
    if key.startswith("event:"):
        en, zh = (events or {}).get(key, (key[6:], ""))
        label = text("driver.event", lang, event=(zh or en) if lang == "zh" else en)
    else:
        kind, _, industry = key.partition(":")
        en, zh = industries.get(industry, (industry, industry))
        name = (zh or en or industry) if lang == "zh" else (en or industry)
        label = text(f"driver.{kind}", lang, industry=name)
    return label[:1].upper() + label[1:] if lang == "en" else label
