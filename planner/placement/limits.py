"""The largest inputs the planner takes: beyond them the CP-SAT model's 64-bit integer arithmetic
(prices in 1e-6 USD times replica counts) could overflow, and the solver would refuse the model.

An input above one of these bounds is an ``InputError`` (exit 2) that names the bound; the bounds
are documented in docs/planning.md ("Limits"). They are far above any real service: the largest
instance costs about $100/h and a service runs tens or hundreds of replicas.
"""

from __future__ import annotations

from typing import Final

# Replicas of one service (also the largest on-demand floor and spread per failure domain).
MAX_REPLICAS: Final = 100_000
# A count written in a fleet or capacity file: identical instances, obtainable instances, a
# reservation's instances, an instance's CPUs or GPUs. Above it, write `unlimited` (capacity).
MAX_COUNT: Final = 1_000_000
# The hourly price of one instance (catalog offer, fleet instance, reservation), in USD.
MAX_HOURLY_PRICE: Final = 1_000_000.0
# The hourly budget, in USD: every replica at the highest price.
MAX_BUDGET_HOURLY: Final = MAX_HOURLY_PRICE * MAX_REPLICAS
# CP-SAT worker threads (CP-SAT itself refuses more than 10,000).
MAX_WORKERS: Final = 256
# The replicas one model may hold, hedge replicas included: with the availability hedge at a
# high interruption rate the replica cap grows as target × replicas / (1 − rate).
MAX_MODEL_REPLICAS: Final = 10_000_000
# The largest magnitude a linear expression of the model may reach (CP-SAT refuses a model whose
# sum of |coefficient × bound| could overflow a signed 64-bit integer; a margin of 2x).
MAX_MODEL_MAGNITUDE: Final = 2**62
# Rows of a capacity CSV (the bytes of every input file are capped by config/input_file.py, and a
# YAML file's values by config/yaml_loader.MAX_VALUES).
MAX_CSV_ROWS: Final = 20_000
