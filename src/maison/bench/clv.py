"""`maison bench clv`: fit time of Maison's CLV models against lifetimes, in the same run.

Three measurements, each printed with its goal:
- the published CDNOW sample (2,357 clients, 39 weeks): parameters against Fader, Hardie & Lee
  (2005) to three significant figures, and the holdout chart (predicted vs actual by frequency);
- the full CDNOW data that ships with lifetimes (23,570 clients, same calibration): fastest of
  `repeats` fits of each model by both libraries; goal >= 10x faster with equal parameters
  (relative difference <= 1e-3);
- a synthetic summary of 10 million clients in whole weeks (drawn from the models with the
  CDNOW parameters): goal under 30 s per model on this machine, peak memory of the fit under
  1 GiB, >= 10x faster than lifetimes with equal parameters. lifetimes fits BG/NBD and
  Gamma-Gamma on the 10M rows as given; its Pareto/NBD (Nelder-Mead over an uncompressed
  likelihood, about an hour at this size) is given the compressed rows with their counts as
  weights, which is the fastest way lifetimes offers, and says so in the table.

lifetimes 0.11.3 runs on NumPy 2 and SciPy 1.17 as is (it needs pkg_resources only for its
datasets module, which is not used: the CDNOW files are read directly). Its fitters set a
global warning filter; every lifetimes call here runs inside `warnings.catch_warnings()`.
"""

from __future__ import annotations

import os
import resource
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from maison.core.runtime import out

try:  # the `models` extra; without it the command says what to install (and the CLI still loads)
    import numpy as np

    from maison.models.clv import BGNBD, GammaGamma, ParetoNBD, cdnow, holdout_report, simulate
    from maison.models.clv.base import Estimator
    from maison.models.clv.data import compress
    from maison.models.exceptions import MissingExtra

    _MISSING: str | None = None
except ImportError as exc:
    _MISSING = str(exc)

CDNOW_PUBLISHED = {
    "BG/NBD": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "Pareto/NBD": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "Gamma-Gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
SPEEDUP_GOAL, AGREEMENT_GOAL, SECONDS_GOAL, MEMORY_GOAL_MB = 10.0, 1e-3, 30.0, 1024.0


@dataclass
class Measure:
    """One model on one data set: our fit, lifetimes' fit, and the verdict against the goal."""

    data: str
    model: str
    clients: int
    rows: int
    ours_s: float
    params: dict[str, float]
    lifetimes_s: float | None = None
    lifetimes_params: dict[str, float] | None = None
    lifetimes_input: str = ""
    peak_mb: float | None = None
    goal: str = ""
    passed: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def speedup(self) -> float | None:
        return None if self.lifetimes_s is None else self.lifetimes_s / self.ours_s

    @property
    def agreement(self) -> float | None:
        """Largest relative difference between the two libraries' parameters."""
        if self.lifetimes_params is None:
            return None
        ours, theirs = np.array(list(self.params.values())), np.array(list(self.lifetimes_params.values()))
        return float(np.max(np.abs(ours - theirs) / np.abs(theirs)))


@dataclass(frozen=True)
class Task:
    model: str
    ours: Callable[[], Estimator]
    lifetimes: Callable[[], Any]


def clv(
    clients: int = typer.Option(10_000_000, help="Clients in the synthetic summary."),
    repeats: int = typer.Option(3, help="Fits per library and model on CDNOW; the fastest counts."),
    lifetimes_large: bool = typer.Option(
        True, "--lifetimes-large/--no-lifetimes-large", help="Also time lifetimes on the synthetic summary (minutes)."
    ),
    seed: int = typer.Option(20260105, help="Seed of the synthetic summary."),
    chart: Path = typer.Option(Path("benchmarks/results/clv-holdout.png"), help="Holdout chart (.png or .svg)."),
    json_path: Path = typer.Option(None, "--json", help="Also write the figures to this JSON file."),
) -> None:
    """CLV fit time against lifetimes on CDNOW and a synthetic summary; parameters against the papers."""
    started = time.perf_counter()
    if _MISSING is not None:
        out.print(f"[red]this benchmark needs the models and eval extras: pip install -e '.[eval]' ({_MISSING})[/]")
        raise typer.Exit(2)
    try:
        cdnow.dataset_dir()
        with _quiet():
            import lifetimes
    except (MissingExtra, ImportError) as exc:
        out.print(f"[red]lifetimes is needed for this benchmark: install maison[eval] ({exc})[/]")
        raise typer.Exit(2) from exc
    measures = published_sample(chart)
    measures += full_cdnow(lifetimes, repeats=repeats)
    measures += synthetic(lifetimes, clients=clients, seed=seed, with_lifetimes=lifetimes_large)
    title = (f"maison bench clv: {os.cpu_count()} cores, lifetimes {lifetimes.__version__}, "
             f"{time.perf_counter() - started:.0f} s, max RSS {_max_rss_mb():,.0f} MB")
    (out if out.width >= 200 else Console(width=200)).print(table(measures, title=title))  # unwrapped
    for m in measures:
        for note in m.notes:
            out.print(f"  {m.data} {m.model}: {note}")
    if json_path is not None:
        payload = {"settings": {"clients": clients, "repeats": repeats, "seed": seed, "cores": os.cpu_count()},
                   "measures": [asdict(m) | {"speedup": m.speedup, "agreement": m.agreement} for m in measures]}
        json_path.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
        out.print(f"figures written to {json_path}")
    if any(m.passed is False for m in measures):
        raise typer.Exit(1)


def published_sample(chart: Path) -> list[Measure]:
    """Fader, Hardie & Lee's 2,357 clients: parameters to three significant figures, holdout chart."""
    out.rule("CDNOW sample, 2,357 clients: published parameters")
    data = cdnow.published_summary()
    fits = {
        "BG/NBD": lambda: BGNBD().fit(data.frequency, data.recency, data.T),
        "Pareto/NBD": lambda: ParetoNBD().fit(data.frequency, data.recency, data.T),
        "Gamma-Gamma": lambda: GammaGamma().fit(data.frequency, data.monetary),
    }
    measures = []
    for name, fit in fits.items():
        seconds, model = _timed(fit)
        published = CDNOW_PUBLISHED[name]
        same = all(f"{model.params_[k]:.3g}" == f"{v:.3g}" for k, v in published.items())
        m = Measure("CDNOW 2,357", name, int(model.n_clients_), model.n_rows_, seconds, model.params_,
                    goal="published to 3 s.f.", passed=same)
        m.notes.append("published " + ", ".join(f"{k}={v}" for k, v in published.items())
                       + f"; fitted log-likelihood {model.log_likelihood_:.1f}")
        measures.append(m)
    split = cdnow.weekly_split(sample=True)
    c = split.calibration
    holdout = holdout_report(BGNBD().fit(c.frequency, c.recency, c.T), split, chart=chart,
                             title="BG/NBD on CDNOW: mean purchases in weeks 40-78")
    rows = "  ".join(f"{r['frequency']}: {r['actual']:.2f}/{r['predicted']:.2f}" for r in holdout.rows())
    out.print(f"  holdout actual/predicted by calibration frequency: {rows}")
    out.print(f"  chart written to {chart}")
    return measures


def full_cdnow(lifetimes: Any, *, repeats: int) -> list[Measure]:
    out.rule("CDNOW, all 23,570 clients, 39-week calibration")
    c = cdnow.weekly_split(sample=False).calibration
    spend = (c.frequency > 0) & (c.monetary > 0)  # one repeat buyer spent $0: Gamma-Gamma needs > 0
    rfm, repeat = (c.frequency, c.recency, c.T), (c.frequency[spend], c.monetary[spend])
    tasks = [_task("BG/NBD", lifetimes, rfm, None), _task("Pareto/NBD", lifetimes, rfm, None),
             _task("Gamma-Gamma", lifetimes, repeat, None)]
    measures = []
    for task in tasks:
        out.print(f"  {task.model}: {repeats} fits each")
        ours_s, model = min((_timed(task.ours) for _ in range(repeats)), key=lambda r: r[0])
        theirs_s, fitted = min((_timed(task.lifetimes, lifetimes_call=True) for _ in range(repeats)),
                               key=lambda r: r[0])
        m = Measure("CDNOW 23,570", task.model, int(model.n_clients_), model.n_rows_, ours_s, model.params_,
                    theirs_s, _lifetimes_params(fitted), "as given")
        measures.append(_judge(m, seconds_goal=None, memory_goal=False))
    return measures


def synthetic(lifetimes: Any, *, clients: int, seed: int, with_lifetimes: bool) -> list[Measure]:
    out.rule(f"synthetic summary, {clients:,} clients in whole weeks")
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 105, clients).astype(np.float64)  # first purchase within the last two years
    x, t_x = simulate.bgnbd(T, **CDNOW_PUBLISHED["BG/NBD"], rng=rng)
    x_p, t_p = simulate.pareto_nbd(T, **CDNOW_PUBLISHED["Pareto/NBD"], rng=rng)
    m = simulate.spend(x, **CDNOW_PUBLISHED["Gamma-Gamma"], rng=rng)
    t_x, t_p = np.minimum(np.round(t_x), T), np.minimum(np.round(t_p), T)
    repeat = x > 0
    pareto_rows = compress(x_p, t_p, T)
    inputs = {
        "BG/NBD": ((x, t_x, T), None),
        "Pareto/NBD": ((x_p, t_p, T), (*pareto_rows.columns, pareto_rows.weight)),
        "Gamma-Gamma": ((x[repeat], m[repeat]), None),
    }
    measures = []
    for name, (ours_data, lifetimes_data) in inputs.items():
        task = _task(name, lifetimes, ours_data, lifetimes_data)
        out.print(f"  {name}: ours")
        with _peak_memory() as peak:
            ours_s, model = _timed(task.ours)
        measure = Measure(f"synthetic {clients / 1e6:g}M", name, int(model.n_clients_), model.n_rows_, ours_s,
                          model.params_, peak_mb=peak[0])
        truth = CDNOW_PUBLISHED[name]
        measure.notes.append("drawn from " + ", ".join(f"{k}={v}" for k, v in truth.items()) + "; fitted "
                             + ", ".join(f"{k}={model.params_[k]:.4g}" for k in truth))
        if with_lifetimes:
            out.print(f"  {name}: lifetimes")
            measure.lifetimes_s, fitted = _timed(task.lifetimes, lifetimes_call=True)
            measure.lifetimes_params = _lifetimes_params(fitted)
            weighted = f"{len(pareto_rows.weight):,} rows, weights"
            measure.lifetimes_input = "as given" if lifetimes_data is None else weighted
            if lifetimes_data is not None:
                measure.notes.append(_uncompressed_pareto_note(lifetimes, x_p, t_p, T))
        measures.append(_judge(measure, seconds_goal=SECONDS_GOAL, memory_goal=True))
    return measures


def _task(name: str, lifetimes: Any, data: tuple[Any, ...], lifetimes_data: tuple[Any, ...] | None) -> Task:
    ours_type: Any = {"BG/NBD": BGNBD, "Pareto/NBD": ParetoNBD, "Gamma-Gamma": GammaGamma}[name]
    theirs_type = {"BG/NBD": lifetimes.BetaGeoFitter, "Pareto/NBD": lifetimes.ParetoNBDFitter,
                   "Gamma-Gamma": lifetimes.GammaGammaFitter}[name]
    if lifetimes_data is None:
        return Task(name, lambda: ours_type().fit(*data), lambda: theirs_type().fit(*data))
    *columns, weights = lifetimes_data
    return Task(name, lambda: ours_type().fit(*data), lambda: theirs_type().fit(*columns, weights=weights))


def _uncompressed_pareto_note(lifetimes: Any, x: Any, t_x: Any, T: Any) -> str:
    """Why lifetimes' Pareto/NBD gets compressed rows: one evaluation of its likelihood on all rows."""
    fitter = lifetimes.ParetoNBDFitter
    scale = 1.0 / T.max()
    with _quiet():
        started = time.perf_counter()
        fitter._negative_log_likelihood(np.array([0.5, 0.1, 0.6, 0.1]), x, t_x * scale, T * scale, np.ones(len(x)), 0.0)
        seconds = time.perf_counter() - started
    return (f"lifetimes' Pareto/NBD likelihood takes {seconds:.1f} s per evaluation on all {len(x):,} rows and its "
            "Nelder-Mead needs hundreds to thousands: it was given the compressed rows with weights instead")


def _judge(m: Measure, *, seconds_goal: float | None, memory_goal: bool) -> Measure:
    goals, verdicts = [], []
    if m.speedup is not None:
        goals.append(f">={SPEEDUP_GOAL:g}x, diff<={AGREEMENT_GOAL:g}")
        verdicts.append(m.speedup >= SPEEDUP_GOAL and (m.agreement or 0.0) <= AGREEMENT_GOAL)
    if seconds_goal is not None:
        goals.append(f"<{seconds_goal:g} s")
        verdicts.append(m.ours_s < seconds_goal)
    if memory_goal and m.peak_mb is not None:
        goals.append(f"<{MEMORY_GOAL_MB:g} MB")
        verdicts.append(m.peak_mb < MEMORY_GOAL_MB)
    m.goal, m.passed = "; ".join(goals), (all(verdicts) if verdicts else None)
    return m


def table(measures: list[Measure], *, title: str) -> Table:
    t = Table(title=title)
    for name in ("data", "model", "clients", "rows fitted", "ours s", "lifetimes s", "lifetimes input",
                 "speedup", "max rel. diff", "peak MB", "goal", ""):
        t.add_column(name, justify="left" if name in ("data", "model", "lifetimes input", "goal", "") else "right")
    for m in measures:
        verdict = "" if m.passed is None else "[green]PASS[/]" if m.passed else "[red]MISS[/]"
        t.add_row(
            m.data, m.model, f"{m.clients:,}", f"{m.rows:,}", f"{m.ours_s:.3f}",
            "" if m.lifetimes_s is None else f"{m.lifetimes_s:.3f}", m.lifetimes_input,
            "" if m.speedup is None else f"{m.speedup:,.1f}x", "" if m.agreement is None else f"{m.agreement:.1e}",
            "" if m.peak_mb is None else f"{m.peak_mb:,.0f}", m.goal, verdict,
        )
    return t


def _timed(fit: Callable[[], Any], *, lifetimes_call: bool = False) -> tuple[float, Any]:
    if lifetimes_call:
        with _quiet():
            started = time.perf_counter()
            result = fit()
            return time.perf_counter() - started, result
    started = time.perf_counter()
    result = fit()
    return time.perf_counter() - started, result


def _lifetimes_params(fitted: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in fitted.params_.items()}


@contextmanager
def _quiet() -> Iterator[None]:
    """lifetimes calls `warnings.simplefilter` inside its likelihoods and pandas warns on import:
    keep both inside this block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _peak_memory() -> Iterator[list[float]]:
    """Peak traced allocation (NumPy arrays included) during the block, in MB."""
    result = [0.0]
    tracemalloc.start()
    try:
        yield result
    finally:
        result[0] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
