"""bot/intent_classifier.py: the same probabilities from the coefficients laid out column-major
(issue 15)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from bot import intent_classifier


def test_the_layout_changes_and_the_probabilities_do_not() -> None:
    rng = np.random.default_rng(7)
    X = sp.random(300, 2000, density=0.01, format="csr", random_state=7)
    y = rng.integers(0, 12, size=300)
    clf = LogisticRegression(max_iter=200).fit(X, y)
    clf.coef_ = np.ascontiguousarray(clf.coef_)  # as Rasa loads it from the model (skops)
    messages = sp.random(50, 2000, density=0.02, format="csr", random_state=8)
    before = np.vstack([clf.predict_proba(messages[i]) for i in range(50)])
    classifier = SimpleNamespace(clf=clf)
    intent_classifier.laid_out_for_prediction(classifier)
    assert clf.coef_.flags.f_contiguous and not clf.coef_.flags.c_contiguous
    after = np.vstack([clf.predict_proba(messages[i]) for i in range(50)])
    assert np.array_equal(before, after)  # to the bit
    laid_out = clf.coef_
    intent_classifier.laid_out_for_prediction(classifier)
    assert clf.coef_ is laid_out  # once
