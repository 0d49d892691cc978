"""Training the fraud model (README "Fraud scoring", Training): ``dataset`` (features + labels,
time split), ``train`` (XGBoost), ``metrics``, ``registry`` (versions, activation, rollback),
``service.train_model`` (gates, comparison, events, alarms), ``evaluate`` (``make eval``),
``jobs`` (queueing), ``bootstrap`` (the embedded first start) and ``cli`` (``flask ml``)."""
