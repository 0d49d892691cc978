"""Fraud scoring of check-ins/outs (README "Fraud scoring").

- ``catalog``: the documented feature list; ``features`` (+ ``loaders``, ``arrays``, ``geo``,
  ``sql``): the one implementation, a whole batch at a time, used by training and scoring.
- ``heuristic``: the cold-start rules; ``model``: the active XGBoost model, cached per worker;
  ``scorer``: scores, reasons and fraud kinds of a batch; ``reasons``: sentences.
- ``service.score_checkins``: the entry point of the jobs; ``persist``: idempotent writes;
  ``sweep``: re-queueing what was left unscored; ``labels``: known fraud (ground truth, tickets).
"""
