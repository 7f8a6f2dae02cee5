"""Data files shipped inside the package (never downloaded at run time)."""
