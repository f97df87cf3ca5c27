"""The learned re-ranker: gradient boosting over the baseline's candidates, with a calibrated probability.

Training data are (case, candidate) rows labelled 1 for the case's diagnosis. The model's
score is turned into a share across a case's candidates (softmax), and an isotonic map fitted
on out-of-fold predictions turns that share into a post-test probability.

The shipped model is a joblib file beside this module, written by ``evaluation.ddx_eval``
(``python -m evaluation.ddx_eval train``) with its training metadata; loading it checks the
feature list so a stale file fails loudly instead of ranking nonsense.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import ThreadpoolController

from ddx_ranker.features import FEATURE_NAMES
from knowledge_index.phenotype import FloatArray

MODEL_FILE = "ddx_model.joblib"


class ModelError(ValueError):
    """The model file is missing, unreadable or was trained on other features."""


def new_classifier(seed: int = 0) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=250,
        learning_rate=0.08,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
    )


def candidate_shares(raw: FloatArray) -> FloatArray:
    """Softmax of one case's candidate scores."""
    shifted = raw - raw.max()
    weights = np.exp(shifted)
    share: FloatArray = weights / weights.sum()
    return share


@dataclass
class LearnedRanker:
    classifier: HistGradientBoostingClassifier
    calibrator: IsotonicRegression | None
    metadata: dict[str, Any] = field(default_factory=dict)
    _threads: ThreadpoolController | None = field(default=None, repr=False)

    @classmethod
    def fit(cls, features: FloatArray, labels: FloatArray, metadata: dict[str, Any], seed: int = 0) -> LearnedRanker:
        classifier = new_classifier(seed)
        classifier.fit(features, labels)
        return cls(classifier, None, {**metadata, "features": list(FEATURE_NAMES)})

    def scores(self, features: FloatArray) -> FloatArray:
        # A hundred rows are scored in ~4 ms on one thread; OpenMP fan-out on a shared machine costs ~35 ms.
        if self._threads is None:
            self._threads = ThreadpoolController()
        with self._threads.limit(limits=1, user_api="openmp"):
            raw: FloatArray = np.asarray(self.classifier.decision_function(features), dtype=np.float64)
        return raw

    def probabilities(self, raw: FloatArray) -> FloatArray | None:
        if self.calibrator is None:
            return None
        calibrated: FloatArray = np.asarray(self.calibrator.predict(candidate_shares(raw)), dtype=np.float64)
        return calibrated

    def fit_calibration(self, shares: FloatArray, is_truth: FloatArray) -> None:
        """Isotonic map from a candidate's share to P(it is the diagnosis), from out-of-fold predictions."""
        calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        calibrator.fit(shares, is_truth)
        self.calibrator = calibrator

    def save(self, path: Path) -> None:
        joblib.dump({"classifier": self.classifier, "calibrator": self.calibrator, "metadata": self.metadata}, path)

    @classmethod
    def load(cls, path: Path) -> LearnedRanker:
        try:
            bundle = joblib.load(path)
        except (OSError, EOFError, ValueError) as exc:
            raise ModelError(f"ddx model {path}: cannot be read: {exc}") from exc
        features = bundle.get("metadata", {}).get("features")
        if features != list(FEATURE_NAMES):
            raise ModelError(f"ddx model {path}: trained on features {features}, this code computes {FEATURE_NAMES}")
        return cls(bundle["classifier"], bundle.get("calibrator"), dict(bundle["metadata"]))

    @classmethod
    def shipped(cls) -> LearnedRanker | None:
        """The model trained on all shared cases, if the package carries one."""
        path = Path(str(resources.files("ddx_ranker") / MODEL_FILE))
        return cls.load(path) if path.is_file() else None
