"""Compiled reads (issue 14): a read operation planned into one SQL statement that writes its JSON.

Work in progress: the planner (``api.compiled.planner``) compiles the root ``customers`` and
``items`` connections with their columns; the HTTP path does not use it yet. See
docs/architecture.md, "Compiled reads".
"""
