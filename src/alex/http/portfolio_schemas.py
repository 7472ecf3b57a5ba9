"""Request and response bodies of the portfolio's routes (docs/portfolio.md, "The HTTP API").

Money, quantities, prices, rates and shares travel as strings of exact decimals (a JSON number
would go through a binary float): answers carry money rounded to its currency's minor unit,
requests take plain decimals such as "245.10" (no sign, exponent or separators). The answers'
shapes are :mod:`alex.portfolio.summary`'s, which ``alex portfolio ... --json`` prints too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

MAX_IMPORT_FILES = 20
MAX_FILE_NAME = 255
DecimalText = Annotated[
    StrictStr,
    Field(max_length=40, examples=["245.10"], description="A decimal as a string, e.g. 245.10."),
]
Day = Annotated[StrictStr, Field(max_length=10, examples=["2026-11-30"])]
DimensionName = Literal["asset_class", "region", "sector", "currency", "account"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ------------------------------------------------------------------------------


class ImportFile(_Body):
    name: StrictStr = Field(
        max_length=MAX_FILE_NAME, description="The file's name, quoted in reports and errors."
    )
    text: StrictStr = Field(description="The file's whole text (UTF-8).")


class PortfolioImportBody(_Body):
    """Files imported together, all or nothing (``alex portfolio import``)."""

    files: list[ImportFile] = Field(min_length=1, max_length=MAX_IMPORT_FILES)
    format: Literal["auto", "alex", "ghostfolio"] = Field(
        "auto", description="auto: JSON is Ghostfolio's, a CSV is told by its header."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "files": [
                        {
                            "name": "transactions.csv",
                            "text": "date,account,type,symbol,quantity,unit_price,fee,"
                            "currency,note\n2026-01-05,brokerage,DEPOSIT,,,5000,0,USD,\n",
                        }
                    ],
                    "format": "auto",
                }
            ]
        },
    )


class ProjectionRequest(_Body):
    """The projection's inputs (``alex portfolio project``); money in the base currency. An
    input left out takes the settings' (``projection``), else the default named."""

    current_age: StrictInt | None = Field(
        None, ge=0, le=120, description="Default: this year - the settings' birth_year, or 40."
    )
    retirement_age: StrictInt | None = Field(None, ge=0, le=150, description="Default 65.")
    end_age: StrictInt | None = Field(None, ge=1, le=150, description="Default 95.")
    years: StrictInt | None = Field(
        None, ge=1, le=100, description="If given, end_age = current_age + years."
    )
    contribution: DecimalText | None = Field(
        None, description="Paid in each year until retirement (default 0)."
    )
    contribution_growth: DecimalText | None = Field(
        None, description="Its yearly growth, a fraction (0.02 is 2%; default 0)."
    )
    spending: DecimalText | None = Field(
        None,
        description="Spent each year in retirement, in today's money (default: the settings' "
        "spending, else 12 x their monthly spending).",
    )
    fee: DecimalText | None = Field(
        None, description="A yearly fee on the whole value, a fraction (0.005 is 0.5%; default 0)."
    )
    seed: StrictInt = Field(0, ge=0, le=2**32 - 1, description="Same seed, same numbers.")
    paths: StrictInt = Field(10_000, ge=10_000, le=100_000)
    as_of: Day | None = Field(None, description="Start from the portfolio on this day.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"current_age": 45, "retirement_age": 65, "contribution": "10000", "seed": 7}
            ]
        },
    )


class PricesImportBody(_Body):
    text: StrictStr = Field(
        description="A CSV: date,symbol,close,currency.",
        examples=["date,symbol,close,currency\n2026-11-27,VTI,245.10,USD\n"],
    )
    name: StrictStr = Field("prices", max_length=MAX_FILE_NAME)


class PriceBody(_Body):
    symbol: StrictStr = Field(max_length=64, examples=["VTI"])
    close: DecimalText
    currency: StrictStr = Field(max_length=8, examples=["USD"])
    date: Day | None = Field(None, description="Default: today.")


class AccountPut(_Body):
    name: StrictStr = Field(max_length=200, examples=["Brokerage"])
    kind: Literal["taxable", "retirement", "savings"]
    currency: StrictStr = Field(max_length=8, examples=["USD"])


class TargetPut(_Body):
    """Per-cent shares by bucket summing to exactly 100; empty removes the target."""

    weights: dict[Annotated[StrictStr, Field(max_length=64)], DecimalText] = Field(
        max_length=200, examples=[{"equity": "60", "bond": "30", "cash": "10"}]
    )


class ProjectionSettingsPut(_Body):
    """The projection's inputs kept in the settings; those left out stay as stored."""

    birth_year: StrictInt | None = Field(None, ge=1900, le=9999, examples=[1981])
    retirement_age: StrictInt | None = Field(None, ge=0, le=120, examples=[67])
    end_age: StrictInt | None = Field(None, ge=1, le=120, examples=[95])
    contribution: DecimalText | None = Field(None, description="Paid in each year.")
    contribution_growth: DecimalText | None = Field(None, description="A fraction a year.")
    spending: DecimalText | None = Field(
        None, description="Spent each year in retirement, in today's money."
    )
    fee: DecimalText | None = Field(None, description="A fraction of the value a year.")


class SettingsPut(_Body):
    """The settings to change; those left out stay as stored."""

    base_currency: StrictStr | None = Field(None, max_length=8, examples=["USD"])
    monthly_spending: DecimalText | None = None
    stale_price_days: StrictInt | None = Field(None, ge=0, le=3650)
    projection: ProjectionSettingsPut | None = None


# --- answers -------------------------------------------------------------------------------


class TotalBody(BaseModel):
    currency: str
    value: str | None = Field(description="null when a part has no price or rate.")
    known: str | None
    unknown: list[str] = Field(description="Positions left out of the sum (no price or rate).")


class QuoteBody(BaseModel):
    name: str
    date: str | None
    status: Literal["fresh", "stale", "missing"]


class AccountValueBody(BaseModel):
    id: str
    name: str
    kind: str
    currency: str
    total: TotalBody


class HoldingBody(BaseModel):
    account: str
    symbol: str
    name: str | None
    currency: str
    quantity: str
    price: str | None
    price_currency: str | None
    price_date: str | None
    value: str | None
    value_in_account: str | None
    value_in_base: str | None
    cost_basis: str
    unrealised_gain: str | None
    quotes: list[QuoteBody]


class CashBody(BaseModel):
    account: str
    currency: str
    amount: str
    value_in_base: str | None


class IncomeBody(BaseModel):
    year: int
    currency: str
    amount: str


class BucketBody(BaseModel):
    name: str
    value: str
    share: str | None
    target: str | None
    drift: str | None


class AllocationBody(BaseModel):
    currency: str
    buckets: list[BucketBody]
    excluded: list[str]
    proposed: list[str] = Field(
        default_factory=list,
        description="Symbols in 'unknown' with a proposed classification waiting to be "
        "accepted: not counted until then.",
    )


class ProposalBody(BaseModel):
    """A classification a model proposed, waiting for the user's accept or reject."""

    symbol: str
    name: str | None
    asset_class: dict[str, str] = Field(
        description="Per cent by bucket; empty: not proposed (the instrument has its own)."
    )
    region: dict[str, str]
    sector: dict[str, str]
    confidence: str = Field(description="The model's own, 0 to 1.", examples=["0.7"])
    reason: str
    model: str
    proposed_on: str


class PortfolioBody(BaseModel):
    """``GET /portfolio`` and ``alex portfolio show --json``."""

    as_of: str
    base_currency: str
    stale_price_days: int
    transactions: int
    total: TotalBody
    accounts: list[AccountValueBody]
    holdings: list[HoldingBody]
    cash: list[CashBody]
    realised_gain: dict[str, str]
    income_by_year: list[IncomeBody]
    allocations: dict[str, AllocationBody]
    stale: list[QuoteBody]
    missing: list[QuoteBody]
    proposed_classifications: list[ProposalBody] = Field(
        default_factory=list, description="Waiting for accept; not in the allocations."
    )


class FindingBody(BaseModel):
    rule: str
    severity: Literal["high", "medium", "low"]
    message: str
    figures: dict[str, str | None]


class RuleRunBody(BaseModel):
    rule: str
    status: Literal["fired", "quiet", "skipped"]
    threshold: str | None
    reason: str


class XRayBody(BaseModel):
    """``GET /portfolio/xray`` and ``alex portfolio xray --json``."""

    as_of: str
    base_currency: str
    findings: list[FindingBody]
    rules: list[RuleRunBody]


class ProjectionInputsBody(BaseModel):
    start: dict[str, str | None]
    current_age: int
    retirement_age: int
    end_age: int
    contribution: str | None
    contribution_growth: str | None
    spending: str | None
    inflation: str | None
    fee: str | None


class ProjectionRowBody(BaseModel):
    age: int
    year: int
    percentiles: dict[str, str]
    expected: str


class ProjectionBody(BaseModel):
    """``POST /portfolio/projection`` and ``alex portfolio project --json`` (nominal)."""

    as_of: str
    currency: str
    paths: int
    seed: int
    inputs: ProjectionInputsBody
    left_out: dict[str, str | None]
    unvalued: list[str]
    success_probability: float
    depletion_age_p10: int | None
    rows: list[ProjectionRowBody]


class ImportReportBody(BaseModel):
    name: str
    format: Literal["alex", "ghostfolio", "auto"]
    kind: Literal["accounts", "instruments", "fx", "prices", "transactions"]
    records: int
    new: int
    unchanged: int
    updated: int
    accounts: list[str]
    instruments: list[str]
    unclassified: list[str]


class ImportResponse(BaseModel):
    reports: list[ImportReportBody] = Field(description="One per file, in the order sent.")


class ExportResponse(BaseModel):
    format: Literal["alex", "ghostfolio"]
    what: Literal["accounts", "instruments", "fx", "prices", "transactions"]
    text: str = Field(description="The file: POST it to /portfolio/import to read it back.")
    left_out: int = Field(
        description="Transactions the format cannot hold (Ghostfolio: deposits, withdrawals)."
    )


class PriceAnswer(BaseModel):
    symbol: str
    date: str
    close: str
    currency: str


class AccountBody(BaseModel):
    id: str
    name: str
    kind: Literal["taxable", "retirement", "savings"]
    currency: str


class AccountListResponse(BaseModel):
    accounts: list[AccountBody]


class TransactionBody(BaseModel):
    id: str
    date: str
    account: str
    type: str
    symbol: str | None
    quantity: str
    unit_price: str
    fee: str
    currency: str
    note: str


class TransactionListResponse(BaseModel):
    transactions: list[TransactionBody]
    total: int


class TargetsResponse(BaseModel):
    targets: dict[str, dict[str, str]] = Field(
        description="Per-cent shares by bucket, by dimension (only the dimensions set)."
    )


class ProjectionSettingsBody(BaseModel):
    """The projection's inputs kept in the settings; null when not set."""

    birth_year: int | None
    retirement_age: int | None
    end_age: int | None
    contribution: str | None
    contribution_growth: str | None
    spending: str | None
    fee: str | None


class SettingsBody(BaseModel):
    """``GET /portfolio/settings`` and ``alex portfolio settings --json``."""

    base_currency: str
    monthly_spending: str | None
    stale_price_days: int
    projection: ProjectionSettingsBody


class PortfolioDeleteResponse(BaseModel):
    message: str
    id: str


class ClassificationListResponse(BaseModel):
    """``GET /portfolio/classifications``: the proposals waiting, by symbol."""

    proposals: list[ProposalBody]


class ClassificationDecision(BaseModel):
    """What accepting or rejecting a proposal did."""

    message: str
    symbol: str
    applied: list[str] = Field(
        description="Dimensions whose proposed weights became the instrument's (accept)."
    )
    kept: list[str] = Field(
        description="Dimensions left as they were: the instrument had its own weights."
    )


class RefusalBody(BaseModel):
    symbol: str
    reason: str


class ClassifyReportBody(BaseModel):
    """One classify run: the proposals made, the instruments not classified and why, and
    those skipped (a proposal already waits, or no instrument on record)."""

    model: str | None
    proposed: list[ProposalBody]
    not_classified: list[RefusalBody]
    skipped: list[RefusalBody]


class ClassifyResponse(BaseModel):
    """``alex portfolio classify --json``: the run (null where it did not run: against a
    remote API, which has no model) and every proposal waiting."""

    report: ClassifyReportBody | None
    proposals: list[ProposalBody]
