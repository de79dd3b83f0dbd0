"""Report specs (TOML), one file per report form; shipped inside the package as libstats.workbook_templates."""
