"""The model every job shares: the declarative spec of the outline (`spec`), its layout for one year (`form`,
`layout`: where each field lives in the workbook), the rules that check it (`rules`), the typed findings and
their Vietnamese catalogue (`findings`), the strict coercion of typed values (`coerce`), the province lists
(`provinces`) and population (`population`). It imports nothing else of libstats."""
