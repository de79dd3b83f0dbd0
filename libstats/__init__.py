"""libstats: the annual library report of Vietnam's provinces."""
