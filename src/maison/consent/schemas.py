"""Request bodies of the consent API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConsentChange(BaseModel):
    """A change of consent: any purposes, the depth, restriction or objections, in one step."""

    model_config = ConfigDict(extra="forbid")

    purposes: dict[str, bool] = Field(default_factory=dict, description="Purpose -> granted.")
    personalization_level: str | None = Field(None, description="L1, L2 or L3.")
    restriction: bool | None = Field(None, description="Art. 18: keep data, stop all processing.")
    object_marketing: bool | None = Field(None, description="Art. 21(2): no direct marketing on any channel.")
    object_profiling: bool | None = Field(None, description="Art. 21(1): no scoring or profiling.")
    method: str = Field("api", description="web, app, store, associate, email_link, dashboard or api.")
    notice_version: str | None = Field(None, max_length=40)
    geography: str | None = Field(None, max_length=8)
