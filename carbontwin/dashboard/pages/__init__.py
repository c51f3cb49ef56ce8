"""The dashboard's pages, one module each: ``<name>_page(app, session)``."""
