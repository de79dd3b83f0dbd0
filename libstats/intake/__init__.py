"""Taking a returned file in: its real format from its bytes and the one LibreOffice conversion of .xls/.ods
(`formats`), a bounded reader of the workbook's parts and cells (`xlsx`), and the identity and values by
field id with structural findings (`reader`). Reads untrusted bytes; never loads a writer."""
