"""A LightGBM classifier with held-out calibration and per-row contributions.

Shared by the future-VIP and churn models. Validation is time-based: rows are ordered by the
`time` passed to `fit` (a client's first contact, or a cutoff), the earlier part trains the
booster and the later part, never seen by it, fits the calibrator and measures the model.
Given each row's sensitive attributes, `fit` also audits, on that later part, who the score
would select (the top `audit_fraction`) against who turned out positive (`fairness_`): the
fairness of the model a card describes, on clients it had not learned from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from maison.models.calibration import brier, reliability
from maison.models.exceptions import ModelInputError, NotFittedError

CALIBRATIONS = ("isotonic", "sigmoid", "auto")
DECIMALS = 6  # numeric features are rounded to this many decimals before the trees see them


def fingerprint(frame: pd.DataFrame, y: NDArray[Any]) -> str:
    """Order-free sha256 of the training rows (features and label)."""
    hashed = pd.util.hash_pandas_object(frame.assign(__y=y), index=False).to_numpy()
    return hashlib.sha256(np.sort(hashed).tobytes()).hexdigest()


def canonical_order(frame: pd.DataFrame, y: NDArray[Any], time: ArrayLike | None) -> NDArray[np.int64]:
    """Rows by `time` (all tied when None), ties broken by a hash of the row's content.

    Bagging draws rows by position, so a fit would otherwise depend on the order the caller
    passed (in a store: random client ids) and two runs on the same data could differ. In this
    order a fit depends on the rows only, like the fingerprint; without `time` the split between
    training and validation rows is then a fixed pseudo-random one."""
    rounded = frame.round(DECIMALS)  # sums computed in parallel may differ in their last bits between runs
    content = pd.util.hash_pandas_object(rounded.assign(__y=y), index=False).to_numpy()
    when = np.asarray(time, dtype=float) if time is not None else np.zeros(len(frame))
    return np.lexsort((content, when)).astype(np.int64)


def _sensitive(sensitive: Mapping[str, ArrayLike] | None, rows: int) -> dict[str, NDArray[Any]]:
    """Each sensitive feature as strings, one per row, or a clear error before any fitting."""
    groups: dict[str, NDArray[Any]] = {}
    for name, values in (sensitive or {}).items():
        column = np.asarray(values, dtype=object)
        if column.shape != (rows,):
            raise ModelInputError(f"sensitive feature {name!r} needs one value per row ({rows}), got {column.shape}")
        groups[name] = column.astype(str)
    return groups


class CalibratedBooster:
    """Gradient-boosted trees whose probabilities are calibrated on later data than they learned from."""

    def __init__(
        self,
        *,
        n_estimators: int = 250,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        calibration: str = "auto",
        calibration_fraction: float = 0.3,
        increasing: tuple[str, ...] = (),
        prior: str | None = None,
        simpler: tuple[int, int] | None = None,
        refit: bool = True,
        audit_fraction: float = 0.1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.increasing = increasing
        self.prior = prior
        self.simpler = simpler
        self.refit = refit
        self.audit_fraction = audit_fraction
        self.random_state = random_state

    # -- encoding -------------------------------------------------------------------------
    def _encode(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise ModelInputError(f"features missing from the input: {missing}")
        frame = X[self.feature_names_].copy()
        for name, levels in self.categories_.items():
            frame[name] = pd.Categorical(frame[name].astype("object"), categories=levels)
        for name in self.feature_names_:
            if name not in self.categories_:
                # Rounded: sums a database computes in parallel differ in their last bits from run
                # to run, and on a flat validation curve that noise alone changed the tree count.
                frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float).round(DECIMALS)
        return frame

    def _booster(
        self, n_estimators: int | None = None, *, size: tuple[int, int] | None = None, graded: bool = False
    ) -> Any:
        """LightGBM with the model's settings; `graded` learns targets in [0, 1] (cross-entropy on
        the log-odds scale, the same loss as the binary classifier's on 0/1 labels)."""
        import lightgbm

        num_leaves, min_child_samples = size or (self.num_leaves, self.min_child_samples)
        estimator = lightgbm.LGBMRegressor if graded else lightgbm.LGBMClassifier
        return estimator(
            objective="cross_entropy" if graded else None,
            n_estimators=n_estimators or self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=num_leaves,
            min_child_samples=min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            random_state=self.random_state,
            n_jobs=1,
            verbose=-1,
            monotone_constraints=[1 if name in self.increasing else 0 for name in self.feature_names_],
            monotone_constraints_method="advanced",
        )

    # -- fitting --------------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame,
        y: ArrayLike,
        *,
        time: ArrayLike | None = None,
        sensitive: Mapping[str, ArrayLike] | None = None,
        target: ArrayLike | None = None,
    ) -> CalibratedBooster:
        """`time` orders the validation split; `sensitive` (feature -> one value per row, e.g. age
        band with "unknown" for clients without it) asks for the fairness audit `fairness_`.

        `target` (one value in [0, 1] per row) is what the prior and the trees learn instead of
        `y`, e.g. a label graded by how close each outcome came to the threshold; boosting stops
        on the target too (graded targets have a higher mean than `y`, a shift the 0/1 loss
        would read as getting worse after the first tree). `y` splits the rows, fits the
        calibrator and is what `validation_` measures: the score remains a probability of `y`."""
        if self.calibration not in CALIBRATIONS:
            raise ModelInputError(f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}")
        labels = np.asarray(y, dtype=int)
        if len(labels) != len(X) or len(X) < 20 or labels.min() == labels.max():
            raise ModelInputError("need at least 20 rows with both classes, one label per row")
        self.feature_names_ = [str(c) for c in X.columns]
        self.categories_ = {
            c: sorted({str(v) for v in X[c].dropna()})
            for c in X.columns
            if X[c].dtype == object or pd.api.types.is_string_dtype(X[c])
        }
        graded = target is not None
        learned = np.asarray(target, dtype=float) if graded else labels
        if len(learned) != len(labels) or not ((learned >= 0) & (learned <= 1)).all():
            raise ModelInputError("target needs one value in [0, 1] per row")
        groups = _sensitive(sensitive, len(X))
        encoded = self._encode(X)
        order = canonical_order(X, labels, time)
        cut = int(round(len(X) * (1 - self.calibration_fraction)))
        early, late = order[:cut], order[cut:]
        if labels[early].min() == labels[early].max() or labels[late].min() == labels[late].max():
            raise ModelInputError("both the earlier (training) and later (calibration) part need both classes")
        self.prior_ = self._fit_prior(encoded.iloc[early], learned[early])
        import lightgbm

        # Early stopping on the later rows chooses the number of trees and, when `simpler` names a
        # second tree size (leaves, min rows per leaf), which of the two generalises better (the
        # validation and calibration numbers are therefore slightly optimistic; the evaluation is
        # not). Where behaviour adds little to the prior, small trees keep boosting from fitting
        # noise on top of it.
        sizes = [(self.num_leaves, self.min_child_samples), *([tuple(self.simpler)] if self.simpler else [])]
        fitted: list[tuple[float, int, Any, tuple[int, int]]] = []
        metric = "cross_entropy" if graded else "binary_logloss"  # the same log loss, by objective
        for size in sizes:
            booster = self._booster(size=(int(size[0]), int(size[1])), graded=graded).fit(
                encoded.iloc[early],
                learned[early],
                init_score=self._prior(encoded.iloc[early]),
                eval_X=(encoded.iloc[late],),
                eval_y=(learned[late],),
                eval_init_score=[self._prior(encoded.iloc[late])],
                eval_metric=metric,
                callbacks=[lightgbm.early_stopping(50, verbose=False)],
            )
            loss = float(next(iter(booster.best_score_.values()))[metric])
            fitted.append((loss, len(fitted), booster, (int(size[0]), int(size[1]))))
        _, _, self.booster_, self.tree_size_ = min(fitted, key=lambda f: (f[0], f[1]))
        self.n_trees_ = max(int(self.booster_.best_iteration_ or self.n_estimators), 1)
        raw = self._raw(encoded.iloc[late])
        method = self.calibration
        if method == "auto":
            method = "isotonic" if min(labels[late].sum(), len(late) - labels[late].sum()) >= 50 else "sigmoid"
        self.calibration_method_ = method
        self.calibrator_ = self._calibrator(method).fit(
            raw.reshape(-1, 1) if method == "sigmoid" else raw, labels[late]
        )
        calibrated = self._calibrate(raw)
        self.validation_: dict[str, Any] = {
            "trees": self.n_trees_,
            "tree_size": {"num_leaves": self.tree_size_[0], "min_child_samples": self.tree_size_[1]},
            "rows_train": int(len(early)),
            "rows_validation": int(len(late)),
            "positives_validation": int(labels[late].sum()),
            "roc_auc": float(roc_auc_score(labels[late], raw)),
            "average_precision": float(average_precision_score(labels[late], raw)),
            "brier_uncalibrated": brier(labels[late], 1 / (1 + np.exp(-raw))),
            "brier": brier(labels[late], calibrated),
            "calibration": method,
        }
        self.reliability_ = reliability(labels[late], calibrated)
        late_groups = {name: g[late] for name, g in groups.items()}
        self.fairness_ = self._audit(raw, labels[late], late_groups) if groups else None
        if self.refit:
            # The calibrator maps the held-out booster's log-odds; a booster refitted on all rows
            # with the same settings ranks better and keeps about the same scale.
            everyone = encoded.iloc[order]
            self.prior_ = self._fit_prior(everyone, learned[order])
            self.booster_ = self._booster(self.n_trees_, size=self.tree_size_, graded=graded).fit(
                everyone, learned[order], init_score=self._prior(everyone)
            )
        self.fingerprint_ = fingerprint(X.assign(__target=learned) if graded else X, labels)
        self.versions_ = {lib: version(lib) for lib in ("lightgbm", "scikit-learn", "pandas", "numpy")}
        return self

    def _audit(
        self, raw: NDArray[np.float64], labels: NDArray[Any], groups: Mapping[str, NDArray[Any]]
    ) -> dict[str, Any]:
        """The fairness audit of the held-out booster's top `audit_fraction` on the later rows."""
        from maison.models.fairness import NO_ATTRIBUTE, audit, select_top

        report = audit(labels, select_top(raw, self.audit_fraction), groups, missing=NO_ATTRIBUTE)
        return {
            "population": "validation clients (the later ones by time, scored by the booster before it saw them)",
            "selection": f"top {self.audit_fraction:.0%} by score",
            **report.to_dict(),
        }

    @staticmethod
    def _calibrator(method: str) -> Any:
        if method == "isotonic":
            return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        return LogisticRegression(C=1e6)

    # -- the prior: boosting starts from a one-feature logistic ranking (e.g. early spend), so
    # the trees learn what behaviour adds to it instead of re-learning it in coarse steps.
    def _prior_input(self, encoded: pd.DataFrame) -> NDArray[np.float64]:
        values = np.asarray(encoded[self.prior].fillna(0).to_numpy(dtype=float), dtype=np.float64)
        return np.log1p(np.clip(values, 0, None)).reshape(-1, 1)

    def _fit_prior(self, encoded: pd.DataFrame, targets: NDArray[Any]) -> LogisticRegression | None:
        """Logistic in the prior feature; a graded target in [0, 1] counts each row as a positive
        with weight `target` and a negative with weight `1 - target` (the same cross-entropy)."""
        if self.prior is None:
            return None
        if self.prior not in self.feature_names_:
            raise ModelInputError(f"prior feature {self.prior!r} is not among the features")
        x, t = self._prior_input(encoded), np.asarray(targets, dtype=float)
        if np.isin(t, (0.0, 1.0)).all():
            return LogisticRegression().fit(x, t.astype(int))
        both = np.concatenate([np.ones(len(t)), np.zeros(len(t))]).astype(int)
        return LogisticRegression().fit(np.vstack([x, x]), both, sample_weight=np.concatenate([t, 1 - t]))

    def _prior(self, encoded: pd.DataFrame) -> NDArray[np.float64]:
        if self.prior_ is None:
            return np.zeros(len(encoded))
        return np.asarray(self.prior_.decision_function(self._prior_input(encoded)), dtype=float)

    def _raw(self, encoded: pd.DataFrame) -> NDArray[np.float64]:
        boosted = np.asarray(self.booster_.predict(encoded, raw_score=True), dtype=np.float64)
        return np.asarray(self._prior(encoded) + boosted, dtype=np.float64)

    def _calibrate(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.calibration_method_ == "sigmoid":
            return np.asarray(self.calibrator_.predict_proba(raw.reshape(-1, 1))[:, 1], dtype=float)
        return np.asarray(self.calibrator_.predict(raw), dtype=float)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters, as scikit-learn's `get_params` (what a model card records)."""
        import inspect

        return {
            name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters if name != "self"
        }

    def _check(self) -> None:
        if not hasattr(self, "booster_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit first")

    # -- predictions ----------------------------------------------------------------------
    def decision_function(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Uncalibrated log-odds: the ranking, without the ties isotonic calibration makes."""
        self._check()
        return self._raw(self._encode(X))

    def predict_proba(self, X: pd.DataFrame) -> NDArray[np.float64]:
        p = self._calibrate(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-row SHAP contributions to the log-odds (TreeSHAP of LightGBM), plus `bias`."""
        self._check()
        encoded = self._encode(X)
        frame = pd.DataFrame(
            np.asarray(self.booster_.predict(encoded, pred_contrib=True)),
            columns=[*self.feature_names_, "bias"],
            index=X.index,
        )
        if self.prior_ is not None:  # the prior is linear in its feature: exact attribution
            prior = self._prior(encoded)
            frame["bias"] += float(np.mean(prior))
            frame[self.prior] += prior - float(np.mean(prior))
        return frame
