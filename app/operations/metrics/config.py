"""The metric settings (business hours, LLM prices, deflection window), taken once from
Settings and handed to the refresher and the statistics."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from app.conversations.sla import BusinessHours
from app.settings import BusinessHoursSetting, Settings


@dataclass(frozen=True)
class MetricsConfig:
    business_hours: BusinessHoursSetting | None = None
    price_per_mtok_input: float | None = None
    price_per_mtok_output: float | None = None
    deflection_window: timedelta = timedelta(hours=72)

    @classmethod
    def from_settings(cls, settings: Settings) -> MetricsConfig:
        return cls(
            business_hours=settings.business_hours,
            price_per_mtok_input=settings.llm_price_per_mtok_input,
            price_per_mtok_output=settings.llm_price_per_mtok_output,
            deflection_window=timedelta(hours=settings.deflection_window_hours),
        )

    @property
    def hours(self) -> BusinessHours | None:
        spec = self.business_hours
        if spec is None:
            return None
        return BusinessHours(frozenset(spec.days), spec.start, spec.end, ZoneInfo(spec.timezone))

    @property
    def priced(self) -> bool:
        """Both prices are needed: a draft's cost with one of them unknown is unknown."""
        return self.price_per_mtok_input is not None and self.price_per_mtok_output is not None

    @property
    def tag(self) -> str:
        """What the stored fact rows depend on (the window is applied when reading): rows
        computed under another tag are refreshed.  Empty for the defaults."""
        if self.business_hours is None and not self.priced:
            return ""
        parts = (
            self.business_hours.model_dump_json() if self.business_hours else "",
            repr(self.price_per_mtok_input) if self.priced else "",
            repr(self.price_per_mtok_output) if self.priced else "",
        )
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def cost_sql(self) -> str:
        """A draft's cost from its fact row's token counts (NULL when unknown).  The
        prices are floats from the settings, written as literals: no NULL parameter
        whose type PostgreSQL would have to guess."""
        if not self.priced:
            return "CAST(NULL AS DOUBLE PRECISION)"
        price_in = float(self.price_per_mtok_input or 0.0)
        price_out = float(self.price_per_mtok_output or 0.0)
        return (
            f"(CAST(prompt_tokens AS DOUBLE PRECISION) * {price_in!r} "
            f"+ CAST(completion_tokens AS DOUBLE PRECISION) * {price_out!r}) / 1000000.0"
        )
