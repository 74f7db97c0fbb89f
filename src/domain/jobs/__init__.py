"""Background jobs: the rows that track work the arq workers do (MRP, costing, writeback)."""
