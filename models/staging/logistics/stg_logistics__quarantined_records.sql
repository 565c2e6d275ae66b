{{ staging_quarantined_records('logistics') }}
