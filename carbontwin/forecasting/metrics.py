"""Accuracy metrics of forecasts: ASHRAE Guideline 14 CV(RMSE) and NMBE, MAPE, pinball.

All functions take the observed values ``y`` and the forecast ``y_hat`` (array-likes of
equal length, in the same unit) and return a float. Non-finite pairs are rejected: a
metric over silently dropped values would not be the one reported.

Examples
--------
>>> y, y_hat = [10.0, 20.0, 30.0], [12.0, 18.0, 33.0]
>>> round(cv_rmse(y, y_hat), 6)  # sqrt((4 + 4 + 9) / 3) / 20
0.119024
>>> round(nmbe(y, y_hat), 6)  # (-2 + 2 - 3) / (3 * 20)
-0.05
>>> round(mape(y, y_hat), 6)  # (0.2 + 0.1 + 0.1) / 3
0.133333
>>> round(pinball([10.0], [12.0], 0.9), 12)  # (0.9 - 1) * (10 - 12)
0.2
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from carbontwin.core.errors import ValidationError

__all__ = ["cv_rmse", "mae", "mape", "nmbe", "pinball", "rmse"]


def _pair(y: ArrayLike, y_hat: ArrayLike, p: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``y`` and ``y_hat`` as flat float arrays after checking them."""
    a = np.asarray(y, dtype=float).ravel()
    b = np.asarray(y_hat, dtype=float).ravel()
    if a.shape != b.shape:
        msg = f"y has {a.size} values and y_hat {b.size}; give one forecast per observation"
        raise ValidationError(msg)
    if a.size == 0:
        msg = "y is empty; a metric needs at least one observation"
        raise ValidationError(msg)
    bad = ~(np.isfinite(a) & np.isfinite(b))
    if bad.any():
        msg = (
            f"y or y_hat has {int(bad.sum())} non-finite values (first at position "
            f"{int(np.flatnonzero(bad)[0])}); drop or fill them before scoring"
        )
        raise ValidationError(msg)
    if not 0 <= p < a.size:
        msg = f"p(={p}) must be >= 0 and below the number of observations ({a.size})"
        raise ValidationError(msg)
    return a, b


def _mean_y(a: np.ndarray) -> float:
    mean = float(a.mean())
    if mean == 0.0:
        msg = "the mean of y is 0: CV(RMSE) and NMBE are undefined (they divide by it)"
        raise ValidationError(msg)
    return mean


def rmse(y: ArrayLike, y_hat: ArrayLike) -> float:
    r"""Root-mean-square error [unit of y]: :math:`\sqrt{\sum (y - \hat y)^2 / n}`."""
    a, b = _pair(y, y_hat)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(y: ArrayLike, y_hat: ArrayLike) -> float:
    r"""Mean absolute error [unit of y]: :math:`\sum |y - \hat y| / n`."""
    a, b = _pair(y, y_hat)
    return float(np.mean(np.abs(a - b)))


def cv_rmse(y: ArrayLike, y_hat: ArrayLike, p: int = 0) -> float:
    r"""Coefficient of variation of the RMSE, ASHRAE Guideline 14 [fraction].

    Parameters
    ----------
    y, y_hat : array-like
        Observed and forecast values [same unit].
    p : int
        Number of model parameters subtracted from ``n`` (Guideline 14 uses the
        regression's parameter count; 0 for forecasts scored out of sample, our default).

    Returns
    -------
    float

    Notes
    -----
    .. math:: \mathrm{CV(RMSE)} = \frac{\sqrt{\sum_i (y_i - \hat y_i)^2 / (n - p)}}{\bar y}

    References
    ----------
    ASHRAE Guideline 14-2014, Measurement of Energy, Demand, and Water Savings, 4.3.2.4.
    """
    a, b = _pair(y, y_hat, p)
    return float(np.sqrt(np.sum((a - b) ** 2) / (a.size - p)) / _mean_y(a))


def nmbe(y: ArrayLike, y_hat: ArrayLike, p: int = 0) -> float:
    r"""Normalised mean bias error, ASHRAE Guideline 14 [fraction].

    Positive when the forecast is too low on average (``y`` above ``y_hat``).

    Parameters
    ----------
    y, y_hat : array-like
        Observed and forecast values [same unit].
    p : int
        Number of model parameters subtracted from ``n`` (0 by default, see
        :func:`cv_rmse`).

    Returns
    -------
    float

    Notes
    -----
    .. math:: \mathrm{NMBE} = \frac{\sum_i (y_i - \hat y_i)}{(n - p)\,\bar y}

    References
    ----------
    ASHRAE Guideline 14-2014, 4.3.2.4.
    """
    a, b = _pair(y, y_hat, p)
    return float(np.sum(a - b) / ((a.size - p) * _mean_y(a)))


def mape(y: ArrayLike, y_hat: ArrayLike) -> float:
    r"""Mean absolute percentage error [fraction, not %].

    Observations equal to 0 are left out (their percentage error is undefined); all
    zero raises.

    Notes
    -----
    .. math:: \mathrm{MAPE} = \frac{1}{|I|} \sum_{i \in I} \frac{|y_i - \hat y_i|}{|y_i|},
              \quad I = \{i : y_i \neq 0\}
    """
    a, b = _pair(y, y_hat)
    keep = a != 0
    if not keep.any():
        msg = "every observation is 0: MAPE is undefined"
        raise ValidationError(msg)
    return float(np.mean(np.abs(a[keep] - b[keep]) / np.abs(a[keep])))


def pinball(y: ArrayLike, q_hat: ArrayLike, tau: float) -> float:
    r"""Mean pinball (quantile) loss of the ``tau`` quantile forecast ``q_hat`` [unit of y].

    Notes
    -----
    .. math:: L_\tau = \frac{1}{n} \sum_i \max\bigl(\tau (y_i - \hat q_i),
              (\tau - 1)(y_i - \hat q_i)\bigr)
    """
    if not 0.0 < tau < 1.0:
        msg = f"tau(={tau}) must lie strictly between 0 and 1"
        raise ValidationError(msg)
    a, b = _pair(y, q_hat)
    d = a - b
    return float(np.mean(np.maximum(tau * d, (tau - 1.0) * d)))
