"""Reference data files (provinces, year settings); see SOURCES.md."""
