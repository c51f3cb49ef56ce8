"""Shared fixtures of the scenario tests: the demo study."""

from __future__ import annotations

import copy

import pytest
import yaml

from carbontwin.scenarios import demo_study_path, load_study


@pytest.fixture(scope="session")
def demo_doc() -> dict:
    return yaml.safe_load(demo_study_path().read_text(encoding="utf-8"))


@pytest.fixture
def demo_study(demo_doc):
    return load_study(copy.deepcopy(demo_doc))
