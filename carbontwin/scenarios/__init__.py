"""Carbon-peak scenario studies: drivers, projections, Monte Carlo, decoupling.

Pure computation: a study is validated from an already parsed document
(:func:`load_study`), projected top-down (Kaya) with bottom-up measures (:func:`project`),
drawn by Monte Carlo (:func:`monte_carlo`, in process or on Dask), ranked by influencing
factor (:func:`tornado`, :func:`sobol_indices`, :func:`suggestions`), and tracked against
actuals (:func:`plan_deviation`, :func:`reproject`). :func:`decoupling` gives Tapio's
states of a history; :func:`fit_stirpat` fits the STIRPAT model. See ``docs/scenarios.md``.
"""

from carbontwin.scenarios.decoupling import (
    TAPIO_STATES,
    decoupling,
    tapio_elasticity,
    tapio_state,
)
from carbontwin.scenarios.definition import (
    DRIVER_KINDS,
    INDUSTRY_DRIVERS,
    PARK_DRIVERS,
    BaseData,
    EnterpriseEvent,
    IndustryBase,
    ModelParameters,
    RatePeriod,
    Scenario,
    ScenarioDefinitionError,
    Study,
    Trajectory,
    Uncertainty,
    base_from_frame,
    demo_study_path,
    load_study,
)
from carbontwin.scenarios.montecarlo import (
    emission_bands,
    local_cluster,
    monte_carlo,
    peak_summary,
    peak_year_pmf,
    prob_peak_by,
)
from carbontwin.scenarios.projection import (
    CompiledScenario,
    StirpatFit,
    compile_scenario,
    evaluate,
    fit_stirpat,
    kaya,
    peak,
    project,
)
from carbontwin.scenarios.sensitivity import sobol_indices, suggestions, tornado
from carbontwin.scenarios.tracking import plan_deviation, rebase, reproject

__all__ = [
    "DRIVER_KINDS",
    "INDUSTRY_DRIVERS",
    "PARK_DRIVERS",
    "TAPIO_STATES",
    "BaseData",
    "CompiledScenario",
    "EnterpriseEvent",
    "IndustryBase",
    "ModelParameters",
    "RatePeriod",
    "Scenario",
    "ScenarioDefinitionError",
    "StirpatFit",
    "Study",
    "Trajectory",
    "Uncertainty",
    "base_from_frame",
    "compile_scenario",
    "decoupling",
    "demo_study_path",
    "emission_bands",
    "evaluate",
    "fit_stirpat",
    "kaya",
    "load_study",
    "local_cluster",
    "monte_carlo",
    "peak",
    "peak_summary",
    "peak_year_pmf",
    "plan_deviation",
    "prob_peak_by",
    "project",
    "rebase",
    "reproject",
    "sobol_indices",
    "suggestions",
    "tapio_elasticity",
    "tapio_state",
    "tornado",
]
