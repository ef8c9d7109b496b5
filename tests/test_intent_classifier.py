"""bot/intent_classifier.py (issue 15): the same probabilities from the coefficients laid out
column-major, the same input row from the sentence features alone."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
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


def test_the_input_row_is_rasas() -> None:
    """The sentence features only, combined as Rasa combines them: the same matrix as Rasa's
    `_create_X`, which also builds the sequence features."""
    rasas_create_x = intent_classifier._rasas_create_x
    assert rasas_create_x is not intent_classifier.create_x
    message = Message(data={"text": "vorrei pagare a rate"})
    for origin, width in (("words", 30), ("chars", 50), ("regex", 4)):
        rows = sp.random(4, width, density=0.3, format="coo", random_state=width)
        message.add_features(Features(rows, FEATURE_TYPE_SEQUENCE, TEXT, origin))
        message.add_features(Features(sp.coo_matrix(rows.sum(axis=0)), FEATURE_TYPE_SENTENCE, TEXT, origin))
    message.add_features(Features(np.ones((1, 3)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    message.add_features(Features(np.ones((4, 3)), FEATURE_TYPE_SEQUENCE, TEXT, "dense"))
    other = Message(data={"text": "ciao"})
    other.add_features(Features(sp.coo_matrix(np.arange(84.0).reshape(1, 84)), FEATURE_TYPE_SENTENCE, TEXT, "all"))
    other.add_features(Features(np.zeros((1, 3)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    ours = intent_classifier.create_x(None, [message, other])
    theirs = rasas_create_x(None, [message, other])
    assert ours.shape == theirs.shape == (2, 87)
    assert ours.format == theirs.format and ours.dtype == theirs.dtype
    assert (ours != theirs).nnz == 0
    # one featurizer only, no dense features: Rasa's single-feature path
    lone = Message(data={"text": "ok"})
    lone.add_features(Features(sp.coo_matrix(np.eye(1, 9)), FEATURE_TYPE_SENTENCE, TEXT, "words"))
    ours, theirs = intent_classifier.create_x(None, [lone]), rasas_create_x(None, [lone])
    assert ours.shape == theirs.shape == (1, 9) and (ours != theirs).nnz == 0 and ours.format == theirs.format
