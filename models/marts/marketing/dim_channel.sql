{#- Marketing channels, including direct and unknown for unattributed traffic. -#}
with

channels as (

    select * from {{ ref('channels') }}

),

final as (

    select
        cast({{ generate_surrogate_key(['channel_code']) }} as {{ type_varchar() }}) as channel_sk,
        cast(channel_code as {{ type_varchar() }}) as channel_code,
        cast(channel_name as {{ type_varchar() }}) as channel_name,
        cast(channel_group as {{ type_varchar() }}) as channel_group,
        cast(is_paid as boolean) as is_paid

    from channels

)

select * from final
