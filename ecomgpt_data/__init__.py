"""Build an EcomInstruct-style training mixture from raw e-commerce datasets.

Data flows one way: `sources` (raw files -> canonical `records`) -> `atomic_tasks` (records -> task
examples by the paper's three strategies) -> `instructions` (examples -> prompt/response text) ->
`filters` + `guard` + selection in `mixture` -> a `datasets` dataset, `mixture.jsonl` and `manifest.json`.
"""
