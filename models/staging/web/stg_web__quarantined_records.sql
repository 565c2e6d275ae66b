{{ staging_quarantined_records('web') }}
