"""Costing: current unit costs, the BOM cost roll-up, and pricing for a target margin.

Pure rules (``current.unit_cost_now``, ``rollup``, ``target_margin``) are plain functions
over plain data; ``tree`` and ``rollup_run`` load their inputs, ``services`` and
``simulation`` are the use cases.
"""
