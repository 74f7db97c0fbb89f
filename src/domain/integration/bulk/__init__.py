"""Bulk files: CSV rows in and out (``erpgraph import`` / ``erpgraph export``).

``rows`` parses cells, ``kinds`` declares each file kind's columns and checks a row with
the domain's own rules, ``upsert`` / ``stock`` / ``boms`` apply valid rows in batches,
``exports`` streams rows out. File IO and the terminal live in ``erpgraph.bulk``.
"""

# The file kinds (the CLI's choices; ``kinds.KINDS`` and ``exports.COLUMNS`` are keyed by them).
IMPORT_KINDS = ("customers", "suppliers", "items", "boms", "stock")
EXPORT_KINDS = ("customers", "items", "orders")
BATCH_SIZE = 1000
