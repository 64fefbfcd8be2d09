"""All settings, read once from the environment and `.env` (see `.env.example`)."""

from datetime import date
from decimal import Decimal
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Meilisearch's default, two thirds of RAM, made every one-document indexing task hundreds of ms
# slower (docs/search.md); the Meilisearch `make run` and `make test` start gets this.
MEILI_INDEXING_MEMORY = "1GiB"
# Seconds before each retry of a failed webhook delivery: Standard Webhooks' schedule, about a day.
WEBHOOK_RETRY_SECONDS = [5.0, 300, 1800, 7200, 18000, 36000, 36000]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TECHEX_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    # The well-known names are unprefixed so that compose files and PaaS add-ons work unchanged.
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    meili_url: str | None = Field(default=None, validation_alias=AliasChoices("MEILI_URL"))
    meili_master_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MEILI_MASTER_KEY")
    )
    meili_bin: Path | None = Field(default=None, validation_alias=AliasChoices("MEILI_BIN"))
    # Meilisearch's own variable, for the Meilisearch `make run` starts.
    meili_max_indexing_memory: str = Field(
        default=MEILI_INDEXING_MEMORY, validation_alias=AliasChoices("MEILI_MAX_INDEXING_MEMORY")
    )
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT"))
    host: str = "127.0.0.1"
    forwarded_allow_ips: str = "127.0.0.1"

    meili_index_prefix: str = "techex"
    meili_timeout_seconds: float = 5.0
    data_dir: Path = Path(".data")
    cache_dir: Path = Path(".cache")

    secret_key: SecretStr | None = Field(default=None, min_length=32)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    # Argon2id cost (RFC 9106's second recommended profile by default); tune to the hardware.
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=8192)
    password_hash_parallelism: int = Field(default=4, ge=1)
    # Hashes and verifications running at once, each taking password_hash_memory_kib; more wait.
    password_hash_concurrency: int = Field(default=4, ge=1)
    # zxcvbn's score (0-4) a new password needs; 3 = "safely unguessable" against online guessing.
    password_min_score: int = Field(default=3, ge=0, le=4)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)

    cors_origins: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    page_size_default: int = Field(default=20, ge=1)
    page_size_max: int = Field(default=100, ge=1)

    # 技术合同认定登记 (contracts): the rules' figures live here, not as literals in code (DOMAIN.md).
    contract_review_working_days: int = Field(default=15, ge=1, le=120)
    contract_expert_review_working_days: int = Field(default=30, ge=1, le=240)
    contract_large_threshold: Decimal = Field(default=Decimal("5000000"), ge=0)
    contract_due_soon_working_days: int = Field(default=3, ge=0, le=30)
    # How long an Idempotency-Key of `submit` / `register` is remembered; after that it is a new request.
    idempotency_key_hours: int = Field(default=24, ge=1, le=720)
    # Plausibility of a form: no contract signed before this date is registered now (the 2000
    # 办法 took effect then), and none of one contract above this amount (元; the province's
    # whole yearly target is 1000亿).
    contract_signed_on_floor: date = date(2000, 1, 1)
    contract_amount_ceiling: Decimal = Field(default=Decimal("100000000000"), gt=0)
    # How many registered contracts `techex seed-demo` (and `DEMO_DATA=1 make run`) loads.
    demo_contracts: int = Field(default=600, ge=0, le=20000)
    publicity_shows_amounts: bool = True
    # Printed as a QR code on certificates; must be the address the public reaches the API at.
    # Unset (empty): this process's own address, http://{host}:{port} (see _default_public_base_url).
    public_base_url: str = ""

    # Webhooks (subscriptions) are posted to public addresses only, so that a subscriber cannot make
    # the server reach the internal network or a cloud metadata service; operators may allow ranges.
    webhook_allowed_networks: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_retry_seconds: Annotated[list[Annotated[float, Field(ge=0)]], NoDecode] = WEBHOOK_RETRY_SECONDS

    # Days an expression of interest may wait for the owner's answer before the interested side is
    # told (once) that it is still unanswered.
    interest_answer_days: int = Field(default=10, ge=1, le=365)

    # Processed outbox messages are kept this long (for inspection), then deleted by the relays.
    outbox_retention_days: int = Field(default=14, ge=1)

    # Confidential details of achievements and demands (docs/deals.md): the text's
    # length in characters, one document's size, and how many documents one listing keeps.
    confidential_text_max_chars: int = Field(default=100_000, ge=1)
    confidential_document_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    confidential_documents_max: int = Field(default=20, ge=1)

    # Trading routes (docs/trading.md; DOMAIN.md "Pricing routes"). Agreed-price publicity: calendar
    # days the name and price stay public.
    pricing_publicity_days: int = Field(default=15, ge=1, le=365)
    # The largest document an objection may carry.
    pricing_objection_document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Listing (挂牌): the shortest disclosure period and extension step a seller may announce, in
    # Chinese working days, and the working days the seller has to qualify or reject an intention.
    listing_min_period_working_days: int = Field(default=10, ge=1, le=120)
    listing_min_extension_working_days: int = Field(default=5, ge=1, le=60)
    listing_intention_answer_working_days: int = Field(default=3, ge=1, le=60)
    # Two or more qualified buyers: the auction among them starts this many working days after the
    # period and runs this many minutes (before anti-sniping extensions).
    listing_auction_start_working_days: int = Field(default=3, ge=1, le=60)
    listing_auction_duration_minutes: int = Field(default=120, ge=10, le=7 * 24 * 60)
    # Online bidding: a bid in the last N minutes moves the end to N minutes after it; the deposit's
    # bounds as fractions of the opening price; working days the winner has to sign, else the
    # deposit is forfeited.
    auction_extension_minutes: int = Field(default=5, ge=1, le=120)
    auction_deposit_min_ratio: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    auction_deposit_max_ratio: Decimal = Field(default=Decimal("0.20"), ge=0, le=1)
    auction_sign_working_days: int = Field(default=5, ge=1, le=60)
    # The clock that closes auctions sleeps until the next end, at most this many seconds (an
    # auction opened meanwhile may end sooner): how late a close may be, and the idle tick's period.
    auction_clock_max_sleep_seconds: float = Field(default=5.0, ge=0.1, le=300)
    # Live events (SSE): a comment line this often keeps proxies from closing an idle stream; a
    # subscriber whose queue of unsent events fills up is disconnected (it reconnects with
    # Last-Event-ID) rather than slowing the others.
    auction_events_heartbeat_seconds: int = Field(default=15, ge=1, le=300)
    auction_events_queue_size: int = Field(default=256, ge=8, le=100_000)
    # Transaction certificates and deal confirmations: the exchange named (and sealing) on them.
    certificate_exchange_name: str = Field(default="技术产权交易市场", min_length=1, max_length=100)

    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = Field(default=10, ge=1)
    db_echo: bool = False

    @field_validator("cors_origins", "webhook_allowed_networks", "webhook_retry_seconds", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, value: str | None) -> str | None:
        # Operators paste plain postgres URLs; the service always talks asyncpg.
        if value is None:
            return None
        for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        raise ValueError("DATABASE_URL must be a postgresql:// URL")

    @model_validator(mode="after")
    def _default_public_base_url(self) -> "Settings":
        # A fixed default named port 8000 whatever PORT was, and the certificates' QR codes led to a
        # refused connection; a wildcard host is not an address anyone can visit, so the loopback.
        if not self.public_base_url:
            host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self.host, self.host)  # noqa: S104
            if ":" in host:  # an IPv6 literal goes in brackets in a URL
                host = f"[{host.strip('[]')}]"
            self.public_base_url = f"http://{host}:{self.port}"
        return self

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> "Settings":
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("TECHEX_SECRET_KEY", self.secret_key),
                    ("DATABASE_URL", self.database_url),
                    ("MEILI_URL", self.meili_url),
                    ("MEILI_MASTER_KEY", self.meili_master_key),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"production requires {', '.join(missing)}")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
