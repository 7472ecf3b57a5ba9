"""Ports: the interfaces the use cases are written against.

Adapters (local and AWS) implement these; the domain never imports an adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from alex.domain.models import (
    ChunkHit,
    Document,
    DocumentSummary,
    Filters,
    Fingerprint,
    Metadata,
    StoredChunk,
)
from alex.domain.tokenizer import Tokenizer as Tokenizer  # the chunker's port, re-exported
from alex.portfolio.model import (
    Account,
    FxRate,
    Instrument,
    PortfolioSettings,
    Price,
    RecordedTransaction,
    Weights,
)

if TYPE_CHECKING:
    # Types only: the ingest and search Lambdas import this module without the researcher.
    from alex.planner.jobs import AnalysisJob, StepProgress
    from alex.planner.reports import Report, ReportSummary
    from alex.research.jobs import ResearchJob

# Plain sequences, not numpy arrays: the cloud path (AWS Lambda) ships without numpy.
# Adapters that compute with numpy convert at their boundary (``tolist()`` out,
# ``np.asarray(..., dtype=np.float32)`` in); both cost microseconds per vector.
Vector = Sequence[float]
"""One sentence vector: ``dimension`` floats, unit length to float32 precision."""
Vectors = Sequence[Vector]
"""One vector per text or chunk, in order (e.g. a list of lists of floats)."""


class Embedder(Protocol):
    """Turns texts into L2-normalised sentence vectors of one shared space."""

    @property
    def model_name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_pieces(self) -> int:
        """Most word pieces per text (special tokens excluded) embedded without truncation."""
        ...

    @property
    def tokenizer(self) -> Tokenizer: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One vector per text, in input order: ``dimension`` floats of unit length each."""
        ...


class VectorStore(Protocol):
    """Documents, their chunks, vectors and full text, kept consistent per document."""

    def get_fingerprint(self, document_id: str) -> Fingerprint | None:
        """Text hash, canonical metadata JSON and chunk count of a stored document."""
        ...

    def upsert(self, document: Document, chunks: Sequence[StoredChunk], vectors: Vectors) -> None:
        """Store a document with its chunks and vectors, replacing any older version atomically."""
        ...

    def upsert_many(self, items: Sequence[tuple[Document, Sequence[StoredChunk], Vectors]]) -> None:
        """Several documents in one atomic write: all of them or none."""
        ...

    def update_metadata(self, document_id: str, metadata: Metadata) -> None: ...

    def semantic(self, vector: Vector, k: int, filters: Filters) -> list[ChunkHit]: ...

    def keyword(self, query: str, k: int, filters: Filters) -> list[ChunkHit]: ...

    def get(self, document_id: str) -> Document | None: ...

    def list_documents(
        self, limit: int, offset: int, filters: Filters
    ) -> list[DocumentSummary]: ...

    def count(self, filters: Filters) -> tuple[int, int]:
        """(documents, chunks) matching ``filters``."""
        ...

    def delete(self, document_id: str) -> bool: ...

    def warm_up(self) -> None:
        """Do the slow part of the first search now (a server calls this at start)."""
        ...

    def check_integrity(self) -> list[str]:
        """Problems found in the store, or an empty list."""
        ...

    def close(self) -> None: ...


class JobStore(Protocol):
    """Where research jobs' state lives: this process's memory, or a table in the cloud
    (where the run happens in another invocation than the request that queued it)."""

    def put(self, job: ResearchJob) -> None: ...

    def get(self, job_id: str) -> ResearchJob | None: ...


class ClaimingJobStore(JobStore, Protocol):
    """A job store that can hand a queued job to exactly one worker."""

    def claim(self, job_id: str) -> bool:
        """Mark a queued job as running; False if it is not queued (taken already)."""
        ...


class AnalysisJobStore(Protocol):
    """The planner's analysis jobs (``alex.planner.jobs``; docs/planner.md, "Jobs and
    reports"): tables in Alex's SQLite file locally, items in the planner's DynamoDB table in
    the cloud. Ids that are not record ids are simply not found. A store that cannot be
    reached raises StoreUnavailableError.

    A local store, when it opens, marks failed (``INTERRUPTED``) every queued or running job
    whose process has ended: no job is left "running" by a process that is gone.
    """

    def put(self, job: AnalysisJob) -> None:
        """Store the record whole, replacing the one with its id: a new job, or its end."""
        ...

    def get(self, job_id: str) -> AnalysisJob | None: ...

    def claim(self, job_id: str) -> AnalysisJob | None:
        """Mark a queued job running (now), exactly once however many workers ask at the
        same time (a conditional write): the running record, or None if the job is not
        queued (claimed already, ended, unknown)."""
        ...

    def update_steps(self, job_id: str, steps: Sequence[StepProgress]) -> bool:
        """Replace a running job's steps (its progress); False, and nothing written, if the
        job is not running (it ended, or was marked interrupted): the worker should stop."""
        ...

    def list_recent(self, limit: int = 20) -> list[AnalysisJob]:
        """The newest ``limit`` jobs (1 to 100), newest first."""
        ...

    def close(self) -> None: ...


class ReportStore(Protocol):
    """The planner's reports (``alex.planner.reports``). Every store keeps the same body, so
    a report too large for one (over ``MAX_STORED_REPORT_BYTES`` compressed) is refused by
    all with PayloadTooLargeError; a bad record is InvalidInputError naming the field.
    Nothing is stored in either case."""

    def put(self, report: Report) -> None:
        """Store the report, replacing the one with its id."""
        ...

    def get(self, report_id: str) -> Report | None: ...

    def list_reports(self, limit: int = 20, before: str | None = None) -> list[ReportSummary]:
        """Up to ``limit`` (1 to 100) reports, newest first; ``before``, the last id of the
        previous page, starts the page after it."""
        ...

    def delete(self, report_id: str) -> bool:
        """False if no report has that id."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class CheckedStore(Protocol):
    """A store that can tell cheaply whether it is still usable: an optional capability of a
    :class:`VectorStore` (the SQLite file can be deleted under a running Alex; a managed
    service has nothing to check). ``/health`` calls it."""

    def check_available(self) -> None:
        """Raise StoreUnavailableError (503) with the reason if writes would be lost."""
        ...


class PriceSource(Protocol):
    """Daily closing prices and FX rates over a span of days (docs/portfolio.md, "Prices
    from the internet (optional)").

    One port for both, as a provider serves both from one endpoint and the store holds both.
    The local default reads what the user imported (``alex.adapters.stored_prices``); an
    online adapter is used only when ``ALEX_PRICES_PROVIDER`` names one. Nothing is stored
    here: saving what a source returns is the caller's business (``put_prices``).

    Spans are ``start`` to ``end``, both inclusive; ``start`` after ``end`` is
    InvalidInputError. Results are oldest first, one per day, with exact ``Decimal`` values;
    days without a close (weekends, holidays, days not imported) are absent, never filled.
    A symbol a provider does not know is NotFoundError (the store cannot tell an unknown
    symbol from one never imported: it returns none); a bad key is ConfigError; a provider
    that cannot answer now (rate limit, outage) is SourceUnavailableError.
    """

    @property
    def name(self) -> str:
        """Where the figures come from ("stored", "twelvedata"): shown beside them."""
        ...

    def daily_closes(self, symbol: str, start: date, end: date) -> list[Price]:
        """Closes of ``symbol`` dated ``start`` to ``end``, in the currency it is quoted in."""
        ...

    def fx_rates(self, base: str, quote: str, start: date, end: date) -> list[FxRate]:
        """Daily ``base``/``quote`` rates (1 base = rate quote) dated ``start`` to ``end``."""
        ...


class PortfolioStore(Protocol):
    """One portfolio's records: accounts, instruments, transactions, prices, FX rates,
    allocation targets and settings (docs/portfolio.md, "Where a portfolio is stored").

    Every write of several records stores all of them or none, and checks them all first:
    a bad record raises InvalidInputError naming its index and field, and nothing is stored.
    A store that cannot be reached raises StoreUnavailableError. Holdings are not stored:
    they are derived from the transactions.
    """

    # Accounts and instruments: ``put`` replaces the record with the same id or symbol.
    def put_account(self, account: Account) -> None: ...

    def get_account(self, account_id: str) -> Account | None: ...

    def list_accounts(self) -> list[Account]:
        """By id."""
        ...

    def delete_account(self, account_id: str) -> bool:
        """False if no account has that id. An account that transactions still name is not
        deleted: InvalidInputError naming how many (``portfolio_checks.check_account_unused``)."""
        ...

    def put_instrument(self, instrument: Instrument) -> None: ...

    def get_instrument(self, symbol: str) -> Instrument | None: ...

    def list_instruments(self) -> list[Instrument]:
        """By symbol."""
        ...

    # Transactions -----------------------------------------------------------------------
    def add_transactions(self, entries: Sequence[RecordedTransaction]) -> int:
        """Store the entries whose ids are not stored yet, all in one atomic write; returns
        how many were new. An id already stored is skipped (even with other contents: a
        re-import adds nothing); an id twice in ``entries`` with different contents, or a
        transaction in an account not stored, is InvalidInputError."""
        ...

    def list_transactions(
        self, account: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[RecordedTransaction]:
        """Those in ``account`` (all accounts if None) dated ``start`` to ``end``, both
        inclusive (open if None), ordered by date, then id."""
        ...

    def delete_transaction(self, transaction_id: str) -> bool:
        """False if no transaction has that id."""
        ...

    def replace_transaction(self, transaction_id: str, entry: RecordedTransaction) -> bool:
        """Delete ``transaction_id`` and add ``entry`` in one atomic write (an edit: an id is
        its transaction's contents, so a changed transaction is another id). False, and
        nothing written, if ``transaction_id`` is not stored; ``entry.id`` stored already
        (other than ``transaction_id``) or in an account not stored is InvalidInputError."""
        ...

    # Prices and FX rates: ``put`` replaces the record of the same day (and symbol or pair).
    def put_prices(self, prices: Sequence[Price]) -> None: ...

    def last_price(self, symbol: str, on: date) -> Price | None:
        """The latest price of ``symbol`` dated ``on`` or before, or None."""
        ...

    def list_prices(self, symbol: str) -> list[Price]:
        """Oldest first."""
        ...

    def put_fx_rates(self, rates: Sequence[FxRate]) -> None: ...

    def last_fx_rate(self, base: str, quote: str, on: date) -> FxRate | None:
        """The latest ``base``/``quote`` rate dated ``on`` or before, or None (the inverse
        pair is not consulted: converting is the valuation's business)."""
        ...

    def list_fx_rates(self, base: str, quote: str) -> list[FxRate]:
        """Oldest first."""
        ...

    # Targets and settings ---------------------------------------------------------------
    def put_target(self, dimension: str, weights: Weights) -> None:
        """The target allocation along ``dimension`` (one of ``model.DIMENSIONS``), in per
        cent summing to 100; empty weights remove the target."""
        ...

    def targets(self) -> dict[str, Weights]:
        """The targets set, by dimension."""
        ...

    def get_settings(self) -> PortfolioSettings:
        """The settings stored, or the defaults if none were."""
        ...

    def put_settings(self, settings: PortfolioSettings) -> None: ...

    def close(self) -> None: ...
