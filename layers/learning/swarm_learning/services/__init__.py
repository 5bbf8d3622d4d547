"""Use cases: what the handlers call, one folder a feature.

``tracking`` (recommendations and outcomes in), ``trust`` (scores, routing, refresh), ``learning``
(the meta-learner's cycle and what it learned), ``series`` (the dashboard's time series), ``keys``
(API keys) and ``retention`` (cleanup).
"""
