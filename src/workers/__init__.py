"""Background work on arq: the outbox relay and scheduled jobs."""
