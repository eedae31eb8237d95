"""Rendering: text tables, Markdown and JSON text for offers, plans, catalogs, simulations and cost
reports. Every sentence a user reads is worded here; the stages below hand over typed values.

Named ``render`` rather than ``report`` so that ``planner.report`` can be the cost-report function, as
``planner.plan`` is the placement function (a subpackage of the same name would shadow it)."""
