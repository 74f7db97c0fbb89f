from __future__ import annotations

from datetime import date

import strawberry

from domain.planning.services import RunRequest


@strawberry.input
class MrpRunInput:
    start_date: date | None = None
    horizon_days: int | None = None
    forecast_min_probability: int | None = strawberry.field(
        default=None,
        description=(
            "Include open opportunities at or above this win probability as forecast demand; "
            "omitted: no forecast."
        ),
    )

    def to_domain(self) -> RunRequest:
        return RunRequest(self.start_date, self.horizon_days, self.forecast_min_probability)
