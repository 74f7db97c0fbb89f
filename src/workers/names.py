"""Names of the worker's arq functions, and which one runs each kind of job."""

from domain.planning.services import MRP

RUN_MRP = "run_mrp"

# job kind (``jobs.kind``) -> the arq function the outbox relay queues for it
JOB_FUNCTIONS: dict[str, str] = {MRP: RUN_MRP}
