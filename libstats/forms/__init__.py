"""Writing what provinces fill: the locked Excel form of one province and year (`template`), the data
dictionary (`dictionary`) and realistic sample returns with documented flaws (`samples`)."""
