{{ staging_quarantined_records('ads') }}
