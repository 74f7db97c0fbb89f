"""Names of the worker's arq functions, and which one runs each kind of job."""

from domain.costing.models import COST_ROLLUP
from domain.costing.runs import COSTING
from domain.integration.erp.sync import JOB_KIND as ERP_SYNC_KIND
from domain.planning.services import MRP

RUN_MRP = "run_mrp"
RUN_COSTING = "run_costing"
RUN_COST_ROLLUP = "run_cost_rollup"
# queued by the outbox relay for each ``stock.freed`` event (``workers.stock``)
ALLOCATE_STOCK = "allocate_stock"
# queued by the outbox relay, a retry or the sweeper for one writeback row (``workers.erp``)
ERP_SYNC = "erp_sync"
RUN_ERP_SYNC = "run_erp_sync"
# one attempt of an outbound webhook delivery (``workers.webhooks``)
DELIVER_WEBHOOK = "deliver_webhook"

# job kind (``jobs.kind``) -> the arq function the outbox relay queues for it
JOB_FUNCTIONS: dict[str, str] = {
    MRP: RUN_MRP, COSTING: RUN_COSTING, COST_ROLLUP: RUN_COST_ROLLUP, ERP_SYNC_KIND: RUN_ERP_SYNC,
}
