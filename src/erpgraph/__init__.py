"""erpgraph: composition root (settings, CLI, embedded services, demo data)."""
