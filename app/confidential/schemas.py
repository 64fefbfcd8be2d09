"""Input and output shapes of confidential details, disclosures and undertakings."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.confidential.policy import Access
from app.core.types import ChinaTime, SafeText

ListingKind = Literal["achievement", "demand"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ConfidentialText(_Input):
    """保密信息正文. Its longest length is a setting (`TECHEX_CONFIDENTIAL_TEXT_MAX_CHARS`)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "核心工艺参数：退火温度 150 ℃，封装胶膜厚度 0.5 mm。"}]}
    )

    text: Annotated[SafeText, Field(description="保密信息（技术秘密、完整技术方案等）")]


class DocumentRead(_Output):
    id: uuid.UUID
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: ChinaTime


class ConfidentialRead(BaseModel):
    listing_kind: ListingKind
    listing_id: uuid.UUID
    version: int = Field(description="counts every change of the text and the documents")
    text: str
    documents: list[DocumentRead]
    updated_at: ChinaTime
    access: Access = Field(description="owner / admin / counterpart / broker: in which capacity you read")
    deal_id: uuid.UUID | None = Field(description="the deal through which a counterpart or broker reads")


class ListingRef(_Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"listing_kind": "achievement", "listing_id": "04994d59-3886-47ea-9343-2694b776f56b"}
            ]
        }
    )

    listing_kind: Annotated[ListingKind, Field(description="achievement 或 demand")]
    listing_id: uuid.UUID


class UndertakingCreate(ListingRef):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "listing_kind": "achievement",
                    "listing_id": "04994d59-3886-47ea-9343-2694b776f56b",
                    "details_version": 1,
                    "text_version": "2026-12-v1",
                }
            ]
        }
    )

    details_version: Annotated[int, Field(ge=1, description="the version of the details you undertake for")]
    text_version: Annotated[
        str, Field(max_length=32, description="the version of the undertaking's text you accept")
    ]


class DisclosureRead(_Output):
    id: uuid.UUID
    deal_id: uuid.UUID
    achievement_id: uuid.UUID | None
    demand_id: uuid.UUID | None
    approved_by_id: uuid.UUID | None
    details_version: int | None = Field(
        description="the details' version when approved (it covers later ones)"
    )
    created_at: ChinaTime
    revoked_at: ChinaTime | None
    revoked_by_id: uuid.UUID | None


class UndertakingRead(_Output):
    id: uuid.UUID
    deal_id: uuid.UUID
    achievement_id: uuid.UUID | None
    demand_id: uuid.UUID | None
    user_id: uuid.UUID
    organization_id: uuid.UUID | None
    capacity: Access
    details_version: int
    text_version: str
    created_at: ChinaTime


class UndertakingText(BaseModel):
    version: str
    text: str
