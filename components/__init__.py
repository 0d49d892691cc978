"""Pure UI factories: shell, cards, tables, figures, ids. No database, no Redis."""
