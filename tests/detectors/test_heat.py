"""Heat indices: NWS chart cells, the brief's sanity values, WBGT methods and solar geometry."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import thermofeel
from scipy.optimize import brentq

from detectors import heat

# --- NWS heat index -----------------------------------------------------------------------

#: cells of the NWS heat index chart (https://www.weather.gov/safety/heat-index), F by RH %.
#: The chart prints the Rothfusz regression rounded to whole degrees, without the low/high
#: humidity adjustments (see the humid-cell test below).
NWS_CHART_F = {
    80: {40: 80, 45: 80, 50: 81, 55: 81, 60: 82, 65: 82, 70: 83, 75: 84, 80: 84, 85: 85},
    86: {40: 85, 45: 87, 50: 88, 55: 89, 60: 91, 65: 93, 70: 95, 75: 97, 80: 100, 85: 102},
    90: {40: 91, 50: 95, 55: 97, 60: 100, 65: 103, 75: 109, 80: 113, 85: 117, 90: 122},
    96: {40: 101, 45: 104, 50: 108, 55: 112, 60: 116, 65: 121, 70: 126, 75: 132},
    100: {40: 109, 45: 114, 50: 118, 55: 124, 60: 129, 65: 136},
    104: {40: 119, 45: 124, 50: 131, 55: 137},
    110: {40: 136},
}
CELLS = [(t, rh, v) for t, row in NWS_CHART_F.items() for rh, v in row.items()]


@pytest.mark.parametrize(("t_f", "rh", "chart_f"), CELLS)
def test_heat_index_matches_nws_chart_cells(t_f: float, rh: float, chart_f: int) -> None:
    assert round(float(heat.heat_index_f(t_f, rh))) == chart_f


def test_chart_cells_off_by_regression_rounding_stay_within_one_degree() -> None:
    # two printed cells sit just across a rounding edge of the regression (92.49 -> chart 93,
    # 105.92 -> chart 105); within the chart's 1 F resolution
    assert float(heat.heat_index_f(90, 45)) == pytest.approx(93, abs=1.0)
    assert float(heat.heat_index_f(90, 70)) == pytest.approx(105, abs=1.0)


def test_humid_adjustment_is_on_top_of_the_chart() -> None:
    # chart 80 F / 100 % = 87 F is the bare regression (87.2); the NWS adjustment for
    # RH > 85 % and 80-87 F adds ((100 - 85)/10)((87 - 80)/5) = 2.1 F
    assert float(heat.heat_index_f(80, 100)) == pytest.approx(87.19 + 2.1, abs=0.05)


@pytest.mark.parametrize(
    ("t_f", "rh", "expected"),
    [
        (90, 60, 99.7),
        (96, 65, 121.0),
        (100, 10, 94.1),  # RH < 13 % adjustment
        (84, 90, 98.3),  # RH > 85 % adjustment
        # the brief prints 75.2; averaging the simple formula with T once (NWS calculator,
        # Anderson 2013) gives 75.42 -- see heat_index_f Notes
        (75, 68.5, 75.4),
    ],
)
def test_heat_index_brief_sanity_values(t_f: float, rh: float, expected: float) -> None:
    assert float(heat.heat_index_f(t_f, rh)) == pytest.approx(expected, abs=0.1)


def test_heat_index_celsius_and_bands() -> None:
    assert float(heat.heat_index_c(heat.f_to_c(90), 60)) == pytest.approx(heat.f_to_c(99.7), 0.01)
    bands = heat.nws_heat_band([79.9, 80.0, 90.0, 103.0, 125.0, np.nan])
    assert list(bands) == ["none", "caution", "extreme_caution", "danger", "extreme_danger", None]


# --- apparent temperature -------------------------------------------------------------------


def test_apparent_temperature_brief_example_and_thermofeel() -> None:
    # brief 1.5: 32 C, 60 %: e = 28.4 hPa, AT(ws = 1 m/s) = 36.7 C
    assert float(heat.vapour_pressure_hpa(32, 60)) == pytest.approx(28.4, abs=0.05)
    assert float(heat.apparent_temperature_c(32, 60, 1.0)) == pytest.approx(36.7, abs=0.05)
    t = np.array([15.0, 25.0, 35.0])
    rh = np.array([80.0, 50.0, 30.0])
    ws = np.array([0.0, 3.0, 7.5])
    ref = thermofeel.calculate_apparent_temperature(t + 273.15, ws, rh) - 273.15
    np.testing.assert_allclose(heat.apparent_temperature_c(t, rh, ws), ref, atol=1e-9)


def test_apparent_temperature_without_wind_is_calm_air() -> None:
    calm = float(heat.apparent_temperature_c(32, 60))
    assert calm == pytest.approx(float(heat.apparent_temperature_c(32, 60, 0.0)))
    assert float(heat.apparent_temperature_c(32, 60, np.nan)) == pytest.approx(calm)


# --- wet bulb and WBGT ---------------------------------------------------------------------


def test_wbgt_brief_worked_example() -> None:
    # brief 1.5 at 32 C / 60 %: Tpwb 25.6, Stull 25.8, Bernard 27.7, Stull shortcut 27.8
    assert float(heat.psychrometric_wet_bulb_c(32, 60)) == pytest.approx(25.6, abs=0.05)
    assert float(heat.wet_bulb_stull_c(32, 60)) == pytest.approx(25.8, abs=0.05)
    assert float(heat.wbgt_bernard_c(32, 60)) == pytest.approx(27.7, abs=0.05)
    assert float(heat.wbgt_stull_c(32, 60)) == pytest.approx(27.8, abs=0.05)


def test_vectorised_wet_bulb_equals_brentq() -> None:
    rng = np.random.default_rng(5)
    t = rng.uniform(-5, 45, 200)
    rh = rng.uniform(5, 99.5, 200)
    got = heat.psychrometric_wet_bulb_c(t, rh)
    for ti, ri, gi in zip(t, rh, got, strict=True):
        ed = ri / 100 * float(heat.saturation_vapour_pressure_hpa(ti))
        td = ti - 60.0  # a wide bracket: brentq does not need the dew point
        f = lambda tw, ed=ed, ta=ti: float(heat._psychrometer(np.array(tw), ed, ta))  # noqa: E731
        assert gi == pytest.approx(brentq(f, td, ti, xtol=1e-9), abs=1e-5)


def test_wet_bulb_edge_cases() -> None:
    out = heat.psychrometric_wet_bulb_c([30.0, 30.0, np.nan, 30.0, 30.0], [100, 0, 50, 120, 50])
    assert out[0] == pytest.approx(30.0)  # saturated: wet bulb = air temperature
    assert np.isnan(out[1:4]).all()
    assert out[4] < 30.0
    assert np.isnan(heat.wet_bulb_stull_c(30.0, 2.0))  # outside Stull's fitted RH range
    assert heat.psychrometric_wet_bulb_c(np.array([]), np.array([])).shape == (0,)


def test_acsm_categories() -> None:
    cats = heat.acsm_wbgt_category([25.0, 28.0, 31.0, 33.0, np.nan])
    assert list(cats) == ["normal", "limit_intense", "cancel_unacclimatized", "cancel", None]


# --- solar geometry and Liljegren -----------------------------------------------------------


def test_solar_zenith_at_solstice_noon_greenwich() -> None:
    # 21 June 12:00 UTC at 51.48 N, 0 E: zenith = latitude - declination (23.44) ~ 28.0 deg
    e = datetime(2024, 6, 21, 12, tzinfo=UTC).timestamp()
    cz, dist = heat.solar_geometry(e, 51.48, 0.0)
    assert np.degrees(np.arccos(cz)) == pytest.approx(28.0, abs=0.3)
    assert float(dist) == pytest.approx(0.967, abs=0.002)  # aphelion in early July
    night = datetime(2024, 6, 21, 0, tzinfo=UTC).timestamp()
    assert float(heat.cos_solar_zenith(night, 51.48, 0.0)) < 0


def test_direct_beam_fraction_bounds() -> None:
    f = heat.direct_beam_fraction([0.0, 100.0, 800.0, 800.0], [0.9, 0.9, 0.9, -0.2])
    assert f[0] == 0.0 and f[3] == 0.0  # no radiation; sun down
    assert 0.0 <= f[1] < f[2] <= 0.9  # clear sky (high S*) is mostly direct beam


def test_liljegren_in_sun_exceeds_shade_and_matches_thermofeel() -> None:
    e = datetime(2024, 7, 15, 12, tzinfo=UTC).timestamp()
    cz, dist = heat.solar_geometry(e, 40.0, 0.0)
    fdir = heat.direct_beam_fraction(850.0, cz, dist)
    sun = float(heat.wbgt_liljegren_c(32.0, 60.0, 2.0, 850.0, cz, fdir))
    shade = float(heat.wbgt_bernard_c(32.0, 60.0))
    assert sun > shade + 1.0  # solar load
    ref = thermofeel.calculate_wbgt_liljegren(
        np.array([305.15]), np.array([60.0]), np.array([1013.25]), np.array([2.0]),
        np.array([850.0]), np.array([fdir]), np.array([cz]),
    )  # fmt: skip
    assert sun == pytest.approx(float(ref[0]) - 273.15, abs=1e-9)
    # at night (no sun) the physical model lands near the shade estimate
    night = float(heat.wbgt_liljegren_c(25.0, 70.0, 2.0, 0.0, -0.3, 0.0))
    assert night == pytest.approx(float(heat.wbgt_bernard_c(25.0, 70.0)), abs=1.5)
    assert np.isnan(heat.wbgt_liljegren_c(32.0, 60.0, np.nan, 850.0, cz, fdir))
