"""Import and export formats: text in, records out, and back. Pure: no store, no I/O.

Alex's CSVs (:mod:`.alex_csv` for transactions and prices, :mod:`.reference_csv` for
accounts, instruments and FX rates), Ghostfolio's JSON (:mod:`.ghostfolio`), and the stable
transaction ids that make re-imports add nothing (:mod:`.ids`). Every parser is atomic: it
returns all the records or raises :class:`~.problems.FormatError` naming the rows and fields
at fault (docs/portfolio.md, "Importing and exporting")."""
