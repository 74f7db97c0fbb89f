"""Names of the arq functions, for the code that enqueues them (the API imports only this)."""

RUN_MRP = "run_mrp"
# published on the event channel by a worker for every change of a job's state
JOB_PROGRESS = "job.progress"
