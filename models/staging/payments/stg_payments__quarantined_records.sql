{{ staging_quarantined_records('payments') }}
