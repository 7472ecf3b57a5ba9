"""How ``alex portfolio`` prints: the Rich tables of an import, the accounts, holdings and
allocations, and the projection's band chart. What is printed comes from a file or a store:
every text goes through ``alex.terminal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from alex.http.portfolio_schemas import (
    AllocationBody,
    ImportReportBody,
    PortfolioBody,
    ProposalBody,
)
from alex.portfolio.allocation import Dimension
from alex.portfolio.projection import ProjectionRow
from alex.terminal import safe_text, visible

console = Console(emoji=False)


def money_text(amount: str | None) -> str:
    """A money string of an answer (already rounded to its minor unit), with separators."""
    return "?" if amount is None else f"{Decimal(amount):,}"


def print_reports(reports: Sequence[ImportReportBody]) -> None:
    table = Table(title="Imported")
    for column in ("file", "holds", "format", "records", "new", "unchanged", "updated"):
        table.add_column(column, overflow="fold")
    for r in reports:
        table.add_row(
            Text(visible(r.name)),
            r.kind,
            r.format,
            str(r.records),
            str(r.new),
            str(r.unchanged),
            str(r.updated),
        )
    console.print(table)
    unclassified = sorted({s for r in reports for s in r.unclassified})
    if unclassified:
        console.print(
            f"[yellow]no instrument on record[/yellow] (shown as unknown in the allocation): "
            f"{safe_text(', '.join(unclassified))}; import an instruments CSV to classify them",
            soft_wrap=True,
        )


def print_accounts(view: PortfolioBody) -> None:
    base = view.base_currency
    total = view.total
    table = Table(
        title=f"Portfolio on {view.as_of}: {money_text(total.known)} {base}"
        + (" (incomplete)" if total.unknown else "")
    )
    for column in ("account", "name", "kind", "currency", "value"):
        table.add_column(column, overflow="fold")
    for account in view.accounts:
        value = account.total
        table.add_row(
            Text(visible(account.id)),
            Text(visible(account.name)),
            account.kind,
            account.currency,
            money_text(value.known) + (" +?" if value.unknown else ""),
        )
    console.print(table)


def print_holdings(view: PortfolioBody) -> None:
    base = view.base_currency
    table = Table(title=f"Holdings (values in {base})")
    for column in ("account", "symbol", "quantity", "price", "value", "cost", "gain", "flag"):
        table.add_column(column, overflow="fold")
    for h in view.holdings:
        price = f"{Decimal(h.price):,} {h.price_currency}" if h.price is not None else "none"
        price_date = f"\n{h.price_date}" if h.price_date else ""
        flags = sorted({q.status for q in h.quotes if q.status != "fresh"})
        gain = h.unrealised_gain
        table.add_row(
            Text(visible(h.account)),
            Text(visible(h.symbol)),
            f"{Decimal(h.quantity):,}",
            Text(visible(price) + price_date),
            money_text(h.value_in_base),
            f"{money_text(h.cost_basis)} {h.currency}",
            Text(
                money_text(gain),
                style="green" if gain is not None and Decimal(gain) >= 0 else "red",
            ),
            Text(", ".join(flags), style="yellow"),
        )
    for cash in view.cash:
        table.add_row(
            Text(visible(cash.account)),
            Text(f"cash {visible(cash.currency)}"),
            "",
            "",
            money_text(cash.value_in_base),
            "",
            "",
            "",
        )
    console.print(table)


def print_allocation(dimension: Dimension, allocation: AllocationBody) -> None:
    targeted = any(bucket.target is not None for bucket in allocation.buckets)
    table = Table(title=f"Allocation by {dimension.value.replace('_', ' ')}")
    columns = ["bucket", "value", "share %"] + (["target %", "drift pp"] if targeted else [])
    for column in columns:
        table.add_column(column, overflow="fold")
    for bucket in allocation.buckets:
        row: list[Text | str] = [
            Text(visible(bucket.name), style="yellow" if bucket.name == "unknown" else ""),
            money_text(bucket.value),
            bucket.share or "0",
        ]
        if targeted:
            drift = Decimal(bucket.drift or 0)
            row += [bucket.target or "", f"{drift:+}"]
        table.add_row(*row)
    console.print(table)
    if allocation.proposed:
        console.print(
            f"[yellow]proposed[/yellow] for unknown, not counted until accepted: "
            f"{safe_text(', '.join(allocation.proposed))} (alex portfolio classify)",
            soft_wrap=True,
        )
    if allocation.excluded:
        console.print(
            f"[yellow]not in the shares[/yellow] (no price or rate): "
            f"{safe_text(', '.join(allocation.excluded))}",
            soft_wrap=True,
        )


def print_notes(view: PortfolioBody) -> None:
    waiting = [p.symbol for p in view.proposed_classifications]
    if waiting:
        console.print(
            f"[yellow]proposed classifications[/yellow] waiting for accept or reject (not "
            f"in the allocation): {safe_text(', '.join(waiting))}; alex portfolio classify",
            soft_wrap=True,
        )
    days = view.stale_price_days
    for quote in view.stale:
        console.print(
            f"[yellow]stale[/yellow] {safe_text(quote.name)}: last known {quote.date or '?'}, "
            f"more than {days} days before {view.as_of}",
            soft_wrap=True,
        )
    for quote in view.missing:
        console.print(
            f"[red]missing[/red] {safe_text(quote.name)}: none known on or before "
            f"{view.as_of} (alex prices set / alex prices import)",
            soft_wrap=True,
        )


def _proposed_text(p: ProposalBody) -> str:
    """One line per dimension proposed ("sector: government 55, financials 45")."""
    lines = [
        f"{name.replace('_', ' ')}: "
        + ", ".join(f"{bucket} {share}" for bucket, share in shares.items())
        for name, shares in (
            ("asset_class", p.asset_class),
            ("region", p.region),
            ("sector", p.sector),
        )
        if shares
    ]
    return "\n".join(lines)


def print_proposals(proposals: Sequence[ProposalBody]) -> None:
    """The proposals waiting: a model's weights, which count nowhere until accepted."""
    if not proposals:
        console.print("No proposed classification is waiting.")
        return
    table = Table(title="Proposed classifications (not counted until accepted)")
    for column in ("symbol", "proposed weights (per cent)", "confidence"):
        table.add_column(column, overflow="fold")
    for p in proposals:
        table.add_row(
            Text(visible(p.symbol)), Text(visible(_proposed_text(p), multiline=True)), p.confidence
        )
    console.print(table)
    for p in proposals:
        console.print(
            Text(
                visible(
                    f"{p.symbol} ({p.name or 'no name'}): {p.reason} [{p.model}, {p.proposed_on}]"
                )
            )
        )
    console.print(
        "Accept one: alex portfolio classify --accept SYMBOL   |   "
        "reject it: alex portfolio classify --reject SYMBOL",
        soft_wrap=True,
    )


# --- projection --------------------------------------------------------------------------


def every_nth(rows: Sequence[ProjectionRow], step: int) -> list[ProjectionRow]:
    """Every ``step``-th year and the last."""
    chosen = [row for row in rows if row.year % step == 0]
    return chosen if chosen[-1] is rows[-1] else [*chosen, rows[-1]]


def band_chart(rows: Sequence[ProjectionRow], width: int = 50, height: int = 16) -> list[str]:
    """A plain-text chart, one line per age: ``-`` spans the 10th to the 90th percentile,
    ``*`` marks the median, on one linear scale from 0 to the largest 90th percentile."""
    step = max(1, -(-len(rows) // height))
    shown = [row for row in rows if row.year % step == 0]
    if shown[-1] is not rows[-1]:
        shown.append(rows[-1])
    top = max(row.percentiles[90] for row in rows)
    scale = Decimal(width - 1) / top if top > 0 else Decimal(0)

    def at(value: Decimal) -> int:
        return int((value * scale).to_integral_value())

    lines = [f"age  0{' ' * (width - 2 - len(f'{top:,.0f}'))}{top:,.0f}"]
    for row in shown:
        cells = [" "] * width
        low, mid, high = at(row.percentiles[10]), at(row.percentiles[50]), at(row.percentiles[90])
        for index in range(low, high + 1):
            cells[index] = "-"
        cells[mid] = "*"
        lines.append(f"{row.age:>3} |{''.join(cells)}|")
    lines.append("     - 10th to 90th percentile, * median")
    return lines


# --- targets and settings ----------------------------------------------------------------
