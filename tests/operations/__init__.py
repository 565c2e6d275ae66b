"""Operating the warehouse: stopping commands and running them one at a time."""
