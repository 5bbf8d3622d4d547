"""A real classifier stream for the drift acceptance test and benchmark: four scikit-learn
classifiers answer the digits data one sample per workflow, and one of them (the SVC) gets half its
input pixels replaced by noise from ``CHANGE_AT`` on. scikit-learn is a development dependency."""

from __future__ import annotations

import numpy as np

DEGRADED = "SVC-01"
STABLE = ("LOGREG-01", "KNN-01", "TREE-01")
WORKFLOWS = 400
CHANGE_AT = 200  # the degraded agent's inputs are half noise from this workflow on


def classifier_stream(seed: int = 7) -> dict[str, list[bool]]:
    """Each agent's correctness on the test half of scikit-learn's digits, in one order; the SVC's
    inputs get half their pixels replaced by noise from ``CHANGE_AT`` on (0.98 -> about 0.55)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.4, random_state=seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_test))[:WORKFLOWS]
    x_test, y_test = x_test[order], y_test[order]
    models = {
        DEGRADED: SVC(gamma="scale"),
        "LOGREG-01": LogisticRegression(max_iter=2000),
        "KNN-01": KNeighborsClassifier(),
        "TREE-01": DecisionTreeClassifier(random_state=seed),
    }
    corrupted = x_test.copy()
    pixels = x_test.shape[1]
    for row in range(CHANGE_AT, len(corrupted)):
        noisy = rng.choice(pixels, size=pixels // 2, replace=False)
        corrupted[row, noisy] = rng.uniform(0, 16, size=pixels // 2)
    correct = {}
    for agent, model in models.items():
        model.fit(x_train, y_train)
        inputs = corrupted if agent == DEGRADED else x_test
        correct[agent] = list(model.predict(inputs) == y_test)
    return correct
