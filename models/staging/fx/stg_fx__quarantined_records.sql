{{ staging_quarantined_records('fx') }}
