"""Imports every context's models so metadata (Alembic, tests) sees all tables."""

from domain.costing import models as costing  # noqa: F401
from domain.crm import models as crm  # noqa: F401
from domain.finance import models as finance  # noqa: F401
from domain.identity import models as identity  # noqa: F401
from domain.integration import idempotency  # noqa: F401
from domain.integration import models as integration  # noqa: F401
from domain.integration import webhooks as webhook_models  # noqa: F401
from domain.inventory import models as inventory  # noqa: F401
from domain.jobs import models as jobs  # noqa: F401
from domain.planning import models as planning  # noqa: F401
from domain.production import models as production  # noqa: F401
from domain.purchasing import models as purchasing  # noqa: F401
from domain.sales import models as sales  # noqa: F401
from domain.shared import events, numbering  # noqa: F401
from domain.shared.db import Base

metadata = Base.metadata
