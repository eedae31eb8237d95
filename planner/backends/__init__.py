"""Backend plugins: provisioning and live offers through each cloud's own SDK (docs/backends.md).

The interface is ``planner.backends.base``; plugins are found through the entry-point group
``planner.backends`` and a built-in mapping of the backends shipped with planner
(``planner.backends.registry``).
"""
