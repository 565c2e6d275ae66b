{#- The CTEs from which ods_web_sessions recomputes sessions: `visitor_events`, the events (of
    `events`, a CTE) to split into sessions, with `earlier_session_count`, the number of the
    visitor's sessions before them; in an incremental run also `changed_visitors`, whose
    sessions the run replaces, and `kept_sessions`, the held sessions that the events delivered
    since the last run cannot change, as the model writes them. A full build splits every
    event.
    A late event can merge or split only the visit it lands in and the sessions after it: a
    visit ends after 30 minutes (var session_timeout_minutes) without an event, which a later
    event cannot bridge. So each changed visitor's sessions are recomputed from the start of the
    held visit that the earliest changed event lands in or follows within 30 minutes, else
    from that event. Only the changed visitors' held sessions and the events since the earliest
    recomputed start are read: on a daily run, days, not the visitors' whole history. -#}
{% macro web_sessions_to_recompute(events) -%}
{%- if is_incremental() %}

held_sessions as (

    select * from {{ this }}

),

changed_visitors as (

    -- a re-delivered event may have moved in time or to another visitor: its old place changes
    {{ web_visitors_changed_since_last_run() }}

),

changed_visitor_sessions as (

    -- a visit starts after 30 minutes without an event, so a session starting more than that
    -- after the previous one ended starts one
    select
        held_sessions.*,
        changed_visitors.changed_from,
        case
            when
                held_sessions.started_at <= {{ dbt.dateadd(
                    'minute', var('session_timeout_minutes'),
                    'lag(held_sessions.ended_at) over (
                        partition by held_sessions.anonymous_id
                        order by held_sessions.started_at, held_sessions.session_number
                    )',
                ) }}
                then 0
            else 1
        end as is_visit_start

    from held_sessions
    inner join changed_visitors
        on held_sessions.anonymous_id = changed_visitors.anonymous_id

),

held_visits as (

    -- the changed visitors' held visits, numbered in time
    select
        anonymous_id,
        changed_from,
        started_at,
        ended_at,
        sum(is_visit_start) over (
            partition by anonymous_id
            order by started_at, session_number
            rows between unbounded preceding and current row
        ) as visit_number

    from changed_visitor_sessions

),

touched_visits as (

    -- the held visit that a visitor's earliest changed event lands in, or follows by less than
    -- 30 minutes: at most one, since visits are more than 30 minutes apart
    select
        anonymous_id,
        min(started_at) as started_at

    from held_visits
    group by anonymous_id, visit_number, changed_from
    having
        min(started_at) < changed_from
        and max(ended_at) >= {{ dbt.dateadd(
            'minute', -var('session_timeout_minutes'), 'changed_from'
        ) }}

),

recomputed_from as (

    -- the sessions before the touched visit are kept: a later event cannot reach back across
    -- a 30-minute pause. Without a touched visit, the changed event starts a visit of its own.
    select
        changed_visitors.anonymous_id,
        coalesce(touched_visits.started_at, changed_visitors.changed_from) as recomputed_from

    from changed_visitors
    left join touched_visits
        on changed_visitors.anonymous_id = touched_visits.anonymous_id

),

kept_sessions as (

    -- as held, written again: the run replaces all of a changed visitor's sessions
    select
        changed_visitor_sessions.session_id,
        changed_visitor_sessions.anonymous_id,
        changed_visitor_sessions.customer_id,
        changed_visitor_sessions.order_number,
        changed_visitor_sessions.landing_page_url,
        changed_visitor_sessions.referrer,
        changed_visitor_sessions.utm_source,
        changed_visitor_sessions.utm_medium,
        changed_visitor_sessions.utm_campaign,
        changed_visitor_sessions.channel_code,
        changed_visitor_sessions.country_code,
        changed_visitor_sessions.device_type,
        changed_visitor_sessions.session_number,
        changed_visitor_sessions.event_count,
        changed_visitor_sessions.page_view_count,
        changed_visitor_sessions.product_view_count,
        changed_visitor_sessions.add_to_cart_count,
        changed_visitor_sessions.checkout_started_count,
        changed_visitor_sessions.order_completed_count,
        changed_visitor_sessions.has_order,
        changed_visitor_sessions.session_date,
        changed_visitor_sessions.started_at,
        changed_visitor_sessions.ended_at,
        changed_visitor_sessions._dlt_load_id,
        changed_visitor_sessions._loaded_at,
        {{ dbt_invocation_id() }} as _dbt_invocation_id

    from changed_visitor_sessions
    inner join recomputed_from
        on changed_visitor_sessions.anonymous_id = recomputed_from.anonymous_id
    where changed_visitor_sessions.started_at < recomputed_from.recomputed_from

),

earlier_session_counts as (

    select
        recomputed_from.anonymous_id,
        recomputed_from.recomputed_from,
        count(kept_sessions.session_id) as earlier_session_count

    from recomputed_from
    left join kept_sessions
        on recomputed_from.anonymous_id = kept_sessions.anonymous_id
    group by recomputed_from.anonymous_id, recomputed_from.recomputed_from

),

visitor_events as (

    -- the bound on all visitors lets the warehouse skip the older part of the events
    select
        events.*,
        earlier_session_counts.earlier_session_count

    from {{ events }} as events
    inner join earlier_session_counts
        on
            events.anonymous_id = earlier_session_counts.anonymous_id
            and events.occurred_at >= earlier_session_counts.recomputed_from
    where events.occurred_at >= (select min(recomputed_from) from recomputed_from)

)

{%- else %}

visitor_events as (

    select
        *,
        0 as earlier_session_count

    from {{ events }}

)

{%- endif %}
{%- endmacro %}
