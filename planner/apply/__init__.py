"""Carrying out a plan through backend plugins: `planner apply` / `planner destroy`."""
