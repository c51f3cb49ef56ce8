"""Metric definitions against hand-computed numbers (ASHRAE Guideline 14, pinball)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from carbontwin.core.errors import ValidationError
from carbontwin.forecasting import cv_rmse, mae, mape, nmbe, pinball, rmse

Y = [10.0, 20.0, 30.0]
Y_HAT = [12.0, 18.0, 33.0]  # errors y - y_hat: -2, 2, -3; squared 4, 4, 9 (sum 17)


def test_cv_rmse_is_rmse_over_mean_with_n_minus_p():
    # exact arithmetic of the definitions: sqrt(17 / (n - p)) / 20
    assert_allclose(cv_rmse(Y, Y_HAT), math.sqrt(17 / 3) / 20, rtol=1e-12)
    assert_allclose(cv_rmse(Y, Y_HAT, p=1), math.sqrt(17 / 2) / 20, rtol=1e-12)


def test_nmbe_sign_and_denominator():
    # sum(y - y_hat) = -3: the forecast is too high, NMBE negative
    assert_allclose(nmbe(Y, Y_HAT), -3 / (3 * 20), rtol=1e-12)
    assert_allclose(nmbe(Y, Y_HAT, p=1), -3 / (2 * 20), rtol=1e-12)
    assert nmbe([10.0, 10.0], [9.0, 9.0]) > 0  # under-forecast is positive


def test_mape_rmse_mae():
    assert_allclose(mape(Y, Y_HAT), (0.2 + 0.1 + 0.1) / 3, rtol=1e-12)
    assert_allclose(rmse(Y, Y_HAT), math.sqrt(17 / 3), rtol=1e-12)
    assert_allclose(mae(Y, Y_HAT), 7 / 3, rtol=1e-12)
    # zeros are left out of MAPE: only the second pair counts
    assert_allclose(mape([0.0, 4.0], [1.0, 5.0]), 0.25, rtol=1e-12)


def test_pinball_by_hand():
    # tau = 0.9: max(0.9 d, -0.1 d) for d = -2, 2, -3 -> 0.2, 1.8, 0.3
    assert_allclose(pinball(Y, Y_HAT, 0.9), (0.2 + 1.8 + 0.3) / 3, rtol=1e-12)
    # tau = 0.5 is half the absolute error
    assert_allclose(pinball(Y, Y_HAT, 0.5), 0.5 * mae(Y, Y_HAT), rtol=1e-12)


def test_perfect_forecast_scores_zero():
    y = np.linspace(1, 5, 9)
    assert cv_rmse(y, y) == 0.0
    assert nmbe(y, y) == 0.0
    assert pinball(y, y, 0.1) == 0.0


@pytest.mark.parametrize(
    ("y", "y_hat", "match"),
    [
        ([1.0, 2.0], [1.0], "2 values and y_hat 1"),
        ([1.0, np.nan], [1.0, 2.0], "non-finite"),
        ([], [], "empty"),
        ([1.0, -1.0], [1.0, -1.0], "mean of y is 0"),
    ],
)
def test_bad_inputs_are_rejected(y, y_hat, match):
    with pytest.raises(ValidationError, match=match):
        cv_rmse(y, y_hat)


def test_bad_p_tau_and_all_zero_mape():
    with pytest.raises(ValidationError, match="p"):
        nmbe(Y, Y_HAT, p=3)
    with pytest.raises(ValidationError, match="tau"):
        pinball(Y, Y_HAT, 1.0)
    with pytest.raises(ValidationError, match="every observation is 0"):
        mape([0.0, 0.0], [1.0, 1.0])
