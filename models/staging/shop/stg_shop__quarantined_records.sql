{{ staging_quarantined_records('shop') }}
