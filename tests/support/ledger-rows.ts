/** A filter for the ledger rows of the items and deliveries tables, without the tally rows each partition keeps (RowKey '~tally|…'). */
export const LEDGER_ROWS = `RowKey lt '~'`;
