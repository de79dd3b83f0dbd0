"""From verdicts to figures: an inbox reviewed (`review`), every file once with its fate (`ledger`), the tidy
dataset traceable to its cells and its Frictionless descriptor (`dataset`, `datapackage`), the national,
provincial and regional tables (`consolidate`) and last year's figures carried over or rebased (`rollover`)."""
